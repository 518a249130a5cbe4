#include "exporter/app.h"

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <memory>

#include "common/log.h"
#include "config/config.h"
#include "config/duration.h"
#include "config/targets.h"
#include "exporter/backend_health_json.h"
#include "exporter/loop_bridge.h"
#include "exporter/metrics.h"
#include "exporter/probe_endpoint.h"
#include "exporter/web_auth.h"
#include "exporter/web_server.h"
#include "probe/probe_result.h"
#include "probe/scheduler.h"
#include "probe/status_board.h"
#include "probe/version.h"

namespace bhe {

extern const char kStatusPageHtml[];

namespace {

HttpResponse textResponse(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body), {}};
}

void logConfigErrors(const std::vector<ConfigError>& errors, std::string_view what) {
  for (const auto& e : errors) {
    log::error(what, {{"error", e.str()}});
  }
}

// Closes every handle still open on the loop and runs it until they are gone.
void drainLoop(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) {
          uv_close(h, nullptr);
        }
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
}

// Everything the running exporter is made of, living on the main thread's loop.
class Exporter {
 public:
  struct ReloadOutcome {
    bool ok = false;
    std::string errors;  // one FILE:LINE:COL line per problem
  };

  Exporter(const ExporterOptions& options, Config config, std::optional<BasicAuth> auth)
      : options_(options),
        config_(std::move(config)),
        auth_(std::move(auth)),
        scheduler_(uv_default_loop(), board_),
        metrics_(board_),
        bridge_(uv_default_loop()) {}

  int run() {
    uv_loop_t* loop = uv_default_loop();
    scheduler_.setLagObserver([this](double s) { metrics_.observeScheduleLag(s); });
    try {
      scheduler_.apply(config_);
    } catch (const std::exception& e) {
      log::error("cannot start probing", {{"error", e.what()}});
      return 1;
    }
    metrics_.recordReload(true);
    routes();
    try {
      web_.start(options_.listen_address);
    } catch (const std::exception& e) {
      log::error("cannot start the web server", {{"error", e.what()}});
      scheduler_.shutdown();
      bridge_.close();
      drainLoop(loop);
      return 1;
    }
    ready_ = true;
    log::info("backend-health-exporter started", {{"version", kBheVersion},
                                                  {"revision", kBheRevision},
                                                  {"config", config_.file},
                                                  {"targets", scheduler_.targetCount()},
                                                  {"listen_address", options_.listen_address},
                                                  {"port", web_.port()}});

    uv_signal_init(loop, &sigterm_);
    uv_signal_init(loop, &sigint_);
    uv_signal_init(loop, &sighup_);
    sigterm_.data = sigint_.data = sighup_.data = this;
    auto stop = [](uv_signal_t* s, int signum) {
      static_cast<Exporter*>(s->data)->shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
    };
    uv_signal_start(&sigterm_, stop, SIGTERM);
    uv_signal_start(&sigint_, stop, SIGINT);
    uv_signal_start(
        &sighup_, [](uv_signal_t* s, int) { static_cast<Exporter*>(s->data)->reload("SIGHUP"); },
        SIGHUP);
    watchConfig();

    uv_run(loop, UV_RUN_DEFAULT);
    drainLoop(loop);
    // Only now: a /probe handler may be waiting for a probe that the drained loop just ended.
    web_.stop();  // joins the handler threads: no handler runs past this point
    uv_loop_close(loop);
    log::info("backend-health-exporter stopped");
    return 0;
  }

 private:
  void routes() {
    if (auth_) {
      web_.setGate([this](const HttpRequest& r) { return auth_->check(r); });
    }
    web_.route(options_.telemetry_path, {"GET", "HEAD"}, [this](const HttpRequest&) {
      return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
    });
    web_.route("/", {"GET", "HEAD"}, [](const HttpRequest&) {
      return HttpResponse{200, "text/html; charset=utf-8", kStatusPageHtml, {}};
    });
    web_.route("/backend-health", {"GET", "HEAD"}, [this](const HttpRequest& r) {
      // Compact by default: the status page fetches this every few seconds; ?pretty=true for
      // people.
      bool pretty = r.query.contains("pretty") && r.query.at("pretty") == "true";
      return HttpResponse{200,
                          "application/json",
                          backendHealthJson(board_.snapshot()).dump(pretty ? 2 : -1) + "\n",
                          {}};
    });
    // A probe holds its thread for up to its timeout: its own lane, so it never holds what
    // scrapes need.
    const int probes = options_.web_max_concurrent_probes;
    web_.route(
        "/probe", {"GET"}, [this](const HttpRequest& r) { return probeEndpoint(r); },
        {.max_concurrent = probes,
         .busy_text = std::to_string(probes) +
                      (probes == 1 ? " on-demand probe is" : " on-demand probes are") +
                      " already running (--web.max-concurrent-probes); retry in a second\n"});
    web_.route(
        "/-/reload", {"POST", "PUT"},
        [this](const HttpRequest&) {
          auto outcome = onLoop<ReloadOutcome>(
              [this](auto done) { done(reload("POST /-/reload")); }, std::chrono::seconds(60));
          if (!outcome) {
            return textResponse(503, "the exporter is shutting down\n");
          }
          if (!outcome->ok) {
            return textResponse(
                500, "config reload failed, the running config is unchanged:\n" + outcome->errors);
          }
          return textResponse(200, "config reloaded\n");
        },
        // Waits for the probe loop (up to a minute): one at a time, off the shared threads.
        {.max_concurrent = 1, .busy_text = "a reload is already running; retry in a second\n"});
    web_.route("/-/healthy", {"GET", "HEAD"},
               [](const HttpRequest&) { return textResponse(200, "Healthy\n"); });
    web_.route("/-/ready", {"GET", "HEAD"}, [this](const HttpRequest&) {
      return ready_ ? textResponse(200, "Ready\n") : textResponse(503, "Not ready\n");
    });
  }

  // Runs `work` on the loop and waits (bounded) for the value it hands to its callback.
  template <typename T>
  std::optional<T> onLoop(std::function<void(std::function<void(T)>)> work,
                          std::chrono::milliseconds limit) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    // Only the loop side holds the promise: work dropped at shutdown (a cancelled probe, a
    // closed bridge) breaks it and wakes this thread at once instead of at `limit`.
    bool posted = bridge_.post([work = std::move(work), promise = std::move(promise)] {
      work([promise](T value) { promise->set_value(std::move(value)); });
    });
    if (!posted || future.wait_for(limit) != std::future_status::ready) {
      return std::nullopt;
    }
    try {
      return future.get();
    } catch (const std::future_error&) {
      return std::nullopt;  // dropped at shutdown
    }
  }

  HttpResponse probeEndpoint(const HttpRequest& r) {
    bool debug = r.query.contains("debug") && r.query.at("debug") == "true";
    std::shared_ptr<const ProbeTarget> target;
    if (r.query.contains("target")) {
      if (!options_.enable_arbitrary_probe) {
        return textResponse(403,
                            "probing arbitrary targets is disabled; start the exporter with "
                            "--web.enable-arbitrary-probe, or use pool=&settings=&server= of a "
                            "configured server\n");
      }
      auto timeout = std::chrono::milliseconds(10000);
      if (r.query.contains("timeout")) {
        auto parsed = parseDuration(r.query.at("timeout"));
        if (!parsed.value || parsed.value->count() == 0) {
          return textResponse(400, "bad timeout: " + parsed.error + "\n");
        }
        timeout = std::min(*parsed.value, std::chrono::milliseconds(60000));
      }
      auto parsed = parseArbitraryTarget(r.query.at("target"), timeout);
      if (!parsed.target) {
        return textResponse(400, parsed.error + "\n");
      }
      target = std::make_shared<const ProbeTarget>(std::move(*parsed.target));
    } else {
      for (const char* p : {"pool", "settings", "server"}) {
        if (!r.query.contains(p)) {
          return textResponse(400, std::string("missing parameter \"") + p +
                                       "\": use /probe?pool=P&settings=S&server=X[&debug=true]\n");
        }
      }
      TargetKey key{r.query.at("pool"), r.query.at("settings"), r.query.at("server")};
      auto found = onLoop<std::shared_ptr<const ProbeTarget>>(
          [this, key](auto done) { done(scheduler_.findTarget(key)); }, std::chrono::seconds(5));
      if (!found) {
        return textResponse(503, "the exporter is shutting down\n");
      }
      if (!*found) {
        return textResponse(404, "no configured server pool=\"" + key.pool + "\" settings=\"" +
                                     key.settings + "\" server=\"" + key.server +
                                     "\"; /backend-health lists them\n");
      }
      target = *found;
    }
    auto result = onLoop<ProbeResult>(
        [this, target, debug](auto done) { scheduler_.probeTarget(target, debug, done); },
        target->timeout + std::chrono::seconds(5));
    if (!result) {
      return textResponse(503, "the probe did not complete (the exporter is shutting down?)\n");
    }
    if (debug) {
      return textResponse(200, renderProbeDebug(*target, *result));
    }
    return HttpResponse{
        200, "text/plain; version=0.0.4; charset=utf-8", renderProbeMetrics(*target, *result), {}};
  }

  void watchConfig() {
    auto interval = parseDuration(options_.config_watch_interval);
    if (!interval.value || interval.value->count() == 0) {
      return;
    }
    uv_fs_poll_init(uv_default_loop(), &config_watch_);
    config_watch_.data = this;
    uv_fs_poll_start(
        &config_watch_,
        [](uv_fs_poll_t* h, int status, const uv_stat_t*, const uv_stat_t*) {
          if (status == 0) {
            static_cast<Exporter*>(h->data)->reload("config file changed");
          }
        },
        options_.config_file.c_str(), static_cast<unsigned>(interval.value->count()));
    watching_ = true;
  }

  // Loop thread. Validates the file again; a bad config leaves the running one untouched.
  ReloadOutcome reload(std::string_view trigger) {
    ConfigLoad load = loadConfigFile(options_.config_file);
    ReloadOutcome outcome;
    if (!load.config) {
      logConfigErrors(load.errors, "config reload rejected, keeping the running config");
      for (const auto& e : load.errors) {
        outcome.errors += e.str() + "\n";
      }
      metrics_.recordReload(false);
      return outcome;
    }
    try {
      scheduler_.apply(*load.config);
    } catch (const std::exception& e) {
      log::error("config reload rejected, keeping the running config", {{"error", e.what()}});
      outcome.errors = std::string(e.what()) + "\n";
      metrics_.recordReload(false);
      return outcome;
    }
    config_ = std::move(*load.config);
    metrics_.recordReload(true);
    log::info("config reloaded", {{"trigger", trigger}, {"targets", scheduler_.targetCount()}});
    outcome.ok = true;
    return outcome;
  }

  void shutdown(std::string_view why) {
    log::info("shutting down", {{"signal", why}});
    ready_ = false;
    bridge_.close();
    scheduler_.shutdown();
    for (uv_signal_t* s : {&sigterm_, &sigint_, &sighup_}) {
      uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    }
    if (watching_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&config_watch_), nullptr);
    }
  }

  ExporterOptions options_;
  Config config_;
  std::optional<BasicAuth> auth_;
  StatusBoard board_;
  ProbeScheduler scheduler_;
  ExporterMetrics metrics_;
  LoopBridge bridge_;
  WebServer web_;
  std::atomic<bool> ready_{false};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_fs_poll_t config_watch_{};
  bool watching_ = false;
};

}  // namespace

int runExporter(const ExporterOptions& options) {
  ConfigLoad load = loadConfigFile(options.config_file);
  if (!load.config) {
    logConfigErrors(load.errors, "invalid configuration");
    return 1;
  }
  std::vector<ConfigError> auth_errors;
  std::optional<BasicAuth> auth = options.web_config_file.empty()
                                      ? std::nullopt
                                      : BasicAuth::loadFile(options.web_config_file, auth_errors);
  if (!auth_errors.empty()) {
    logConfigErrors(auth_errors, "invalid web configuration");
    return 1;
  }
  auto interval = parseDuration(options.config_watch_interval);
  if (!interval.value) {
    log::error("invalid --config.watch-interval", {{"error", interval.error}});
    return 1;
  }
  Exporter exporter(options, std::move(*load.config), std::move(auth));
  return exporter.run();
}

int runCheckConfig(const std::string& config_file) {
  ConfigLoad load = loadConfigFile(config_file);
  for (const auto& e : load.errors) {
    std::cout << e.str() << '\n';
  }
  if (!load.config) {
    std::cout << load.errors.size() << (load.errors.size() == 1 ? " problem" : " problems")
              << " found in " << config_file << '\n';
    return 1;
  }
  std::cout << config_file << ": OK (" << load.config->pools.size() << " pools, "
            << expandTargets(*load.config).size() << " servers to probe)\n";
  return 0;
}

int runProbeOnce(const std::string& config_file) {
  ConfigLoad load = loadConfigFile(config_file);
  if (!load.config) {
    for (const auto& e : load.errors) {
      std::cerr << e.str() << '\n';
    }
    return 1;
  }
  uv_loop_t* loop = uv_default_loop();
  StatusBoard board;
  ProbeScheduler scheduler(loop, board);
  std::vector<ProbeTarget> targets = expandTargets(*load.config);
  try {
    scheduler.configureEnvironment(*load.config);  // resolver and limits, but no schedules
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  std::vector<std::optional<ProbeResult>> results(targets.size());
  std::size_t remaining = targets.size();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    scheduler.probeTarget(std::make_shared<const ProbeTarget>(targets[i]), false,
                          [&, i](ProbeResult r) {
                            results[i] = std::move(r);
                            if (--remaining == 0) {
                              scheduler.shutdown();
                            }
                          });
  }
  if (targets.empty()) {
    scheduler.shutdown();
  }
  uv_run(loop, UV_RUN_DEFAULT);
  drainLoop(loop);
  uv_loop_close(loop);

  struct Row {
    std::string pool, settings, server, state, reason, details;
  };
  std::vector<Row> rows;
  std::map<Reason, int> failing_reasons;
  bool all_healthy = true;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& r = *results[i];
    Row row{targets[i].key.pool,
            targets[i].key.settings,
            targets[i].key.server,
            "healthy",
            "",
            r.details};
    if (!r.success) {
      all_healthy = false;
      row.state = std::string(stateName(describe(r.reason).state));
      row.reason = std::string(describe(r.reason).name);
      failing_reasons[r.reason]++;
    }
    rows.push_back(std::move(row));
  }
  std::array<std::size_t, 5> width{4, 8, 6, 5, 6};
  for (const auto& row : rows) {
    width[0] = std::max(width[0], row.pool.size());
    width[1] = std::max(width[1], row.settings.size());
    width[2] = std::max(width[2], row.server.size());
    width[3] = std::max(width[3], row.state.size());
    width[4] = std::max(width[4], row.reason.size());
  }
  auto print = [&](const std::string& a, const std::string& b, const std::string& c,
                   const std::string& d, const std::string& e, const std::string& f) {
    std::printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", static_cast<int>(width[0]), a.c_str(),
                static_cast<int>(width[1]), b.c_str(), static_cast<int>(width[2]), c.c_str(),
                static_cast<int>(width[3]), d.c_str(), static_cast<int>(width[4]), e.c_str(),
                f.c_str());
  };
  print("POOL", "SETTINGS", "SERVER", "STATE", "REASON", "DETAILS");
  for (const auto& row : rows) {
    print(row.pool, row.settings, row.server, row.state, row.reason, row.details);
  }
  if (!failing_reasons.empty()) {
    std::printf("\nWhat to check:\n");
    for (const auto& [reason, count] : failing_reasons) {
      std::printf("  %s: %s\n", std::string(describe(reason).name).c_str(),
                  std::string(describe(reason).hint).c_str());
    }
  }
  std::fflush(stdout);
  return all_healthy ? 0 : 1;
}

}  // namespace bhe
