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
#include "common/uv_dispatcher.h"
#include "common/uv_handle.h"
#include "common/version.h"
#include "config/config.h"
#include "config/duration.h"
#include "config/targets.h"
#include "exporter/backend_health_json.h"
#include "exporter/loop_bridge.h"
#include "exporter/metrics.h"
#include "exporter/probe_endpoint.h"
#include "exporter/reload_worker.h"
#include "exporter/web_auth.h"
#include "exporter/web_server.h"
#include "pki/x509.h"
#include "probe/probe_engine.h"
#include "probe/probe_result.h"
#include "probe/publish/state_change_log.h"
#include "probe/publish/status_board.h"

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

// Runs the loop until the owners closed their handles, then closes the loop itself.
void finishLoop(UvDispatcher& dispatcher) {
  uv_loop_t* loop = dispatcher.loop();
  uv_run(loop, UV_RUN_DEFAULT);  // probes hand over their results, closed handles go
  dispatcher.close();
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

// How long POST /-/reload waits for the outcome of its reload.
constexpr std::chrono::seconds kReloadAnswerWithin{60};
// How long a shutdown waits for a reload that is still reading its files.
constexpr std::chrono::milliseconds kReloadShutdownGrace{1000};

// Everything the running exporter is made of, living on the main thread's loop.
class Exporter {
 public:
  Exporter(const ExporterOptions& options, Config config, std::optional<BasicAuth> auth)
      : options_(options),
        config_(std::move(config)),
        auth_(std::move(auth)),
        dispatcher_(uv_default_loop()),
        sinks_({&board_, &state_change_log_}),
        engine_(dispatcher_, sinks_, EngineOptions{options.enable_arbitrary_probe}),
        metrics_(board_),
        bridge_(uv_default_loop()),
        reloads_(uv_default_loop(),
                 [this](const std::string& trigger) { return reloadJob(trigger); }) {}

  int run() {
    engine_.runner().setLagObserver([this](double s) { metrics_.observeScheduleLag(s); });
    engine_.runner().setInFlightObserver([this](int n) { board_.probes_in_flight = n; });
    try {
      engine_.apply(config_);
      publishConfigFacts(config_);
    } catch (const std::exception& e) {
      log::error("cannot start probing", {{"error", e.what()}});
      stop();
      finishLoop(dispatcher_);
      return 1;
    }
    metrics_.recordReload(true);
    routes();
    try {
      web_.start(options_.listen_address);
    } catch (const std::exception& e) {
      log::error("cannot start the web server", {{"error", e.what()}});
      stop();
      finishLoop(dispatcher_);
      web_.stop();
      return 1;
    }
    ready_ = true;
    log::info("backend-health-exporter started", {{"version", kBheVersion},
                                                  {"revision", kBheRevision},
                                                  {"config", config_.file},
                                                  {"targets", engine_.targetCount()},
                                                  {"listen_address", options_.listen_address},
                                                  {"port", web_.port()}});
    watchSignals();
    watchConfig();
    finishLoop(dispatcher_);
    // Only now: a /probe handler that the shutdown woke may still be writing its 503.
    web_.stop();  // joins the web threads: no handler runs past this point
    log::info("backend-health-exporter stopped");
    return 0;
  }

 private:
  void routes() {
    if (auth_) {
      web_.setGate([this](const HttpRequest& r) { return auth_->check(r); });
    }
    web_.route(options_.telemetry_path, {"GET", "HEAD"}, [this](const HttpRequest&) {
      HttpResponse response{200, "text/plain; version=0.0.4; charset=utf-8", {}, {}};
      response.body_stream = metrics_.stream();
      return response;
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
              [this](auto done) {
                reloads_.request("POST /-/reload",
                                 [done](const ReloadOutcome& outcome) { done(outcome); });
              },
              kReloadAnswerWithin);
          if (!outcome && ready_) {
            return textResponse(
                503, "the reload has not finished within " +
                         std::to_string(kReloadAnswerWithin.count()) +
                         "s (reading the configuration is slow or blocked); it goes on, and the "
                         "running config stays until it is done; the log has the outcome\n");
          }
          if (!outcome) {
            return textResponse(503, "the exporter is shutting down\n");
          }
          if (!outcome->ok) {
            return textResponse(
                500, "config reload failed, the running config is unchanged:\n" + outcome->errors);
          }
          return textResponse(200, "config reloaded\n");
        },
        // Waits for the reload (up to a minute): one at a time, off the shared threads.
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
          [this, key](auto done) { done(engine_.findTarget(key)); }, std::chrono::seconds(5));
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
    auto result = onLoop<RoundResult>(
        [this, target, debug](auto done) { engine_.probeNow(target, debug, done); },
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

  void watchSignals() {
    uv_loop_t* loop = dispatcher_.loop();
    auto stop_on = [this, loop](UvHandle<uv_signal_t>& handle, int signum) {
      handle = UvHandle<uv_signal_t>([loop](uv_signal_t* h) { return uv_signal_init(loop, h); });
      handle->data = this;
      uv_signal_start(
          handle.get(),
          [](uv_signal_t* s, int signum) {
            static_cast<Exporter*>(s->data)->shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
          },
          signum);
    };
    stop_on(sigterm_, SIGTERM);
    stop_on(sigint_, SIGINT);
    sighup_ = UvHandle<uv_signal_t>([loop](uv_signal_t* h) { return uv_signal_init(loop, h); });
    sighup_->data = this;
    uv_signal_start(
        sighup_.get(),
        [](uv_signal_t* s, int) { static_cast<Exporter*>(s->data)->reloads_.request("SIGHUP"); },
        SIGHUP);
  }

  void watchConfig() {
    auto interval = parseDuration(options_.config_watch_interval);
    if (!interval.value || interval.value->count() == 0) {
      return;
    }
    uv_loop_t* loop = dispatcher_.loop();
    config_watch_ =
        UvHandle<uv_fs_poll_t>([loop](uv_fs_poll_t* h) { return uv_fs_poll_init(loop, h); });
    config_watch_->data = this;
    uv_fs_poll_start(
        config_watch_.get(),
        [](uv_fs_poll_t* h, int status, const uv_stat_t*, const uv_stat_t*) {
          auto* self = static_cast<Exporter*>(h->data);
          if (self != nullptr && status == 0) {
            self->reloads_.request("config file changed");
          }
        },
        options_.config_file.c_str(), static_cast<unsigned>(interval.value->count()));
  }

  // What a reload reads and builds on the worker thread, for the loop to apply.
  struct PreparedReload {
    ConfigLoad load;
    std::shared_ptr<const ProbeContext> context;
    std::string context_error;  // the probe context could not be built
  };

  // Loop thread: the reload's job, with copies of what it needs (it runs on the worker thread
  // and must not touch the loop's state).
  ReloadWorker::Job reloadJob(const std::string& trigger) {
    return [this, trigger, file = options_.config_file,
            build = engine_.contextBuilder()]() -> ReloadWorker::Apply {
      auto prepared = std::make_shared<PreparedReload>();
      prepared->load = loadConfigFile(file);
      if (prepared->load.config) {
        try {
          prepared->context = build(*prepared->load.config);
        } catch (const std::exception& e) {
          prepared->context_error = e.what();
        }
      }
      releaseWolfSslThreadCaches();  // certificate and key checks ran on this thread
      // Runs on the loop; `this` is not touched before (the worker may outlive the exporter).
      return [this, trigger, prepared] { return applyReload(trigger, *prepared); };
    };
  }

  // Loop thread. A bad config leaves the running one untouched.
  ReloadOutcome applyReload(const std::string& trigger, PreparedReload& prepared) {
    ConfigLoad& load = prepared.load;
    ReloadOutcome outcome;
    if (!load.config) {
      logConfigErrors(load.errors, "config reload rejected, keeping the running config");
      for (const auto& e : load.errors) {
        outcome.errors += e.str() + "\n";
      }
      metrics_.recordReload(false);
      return outcome;
    }
    std::string error = prepared.context_error;
    if (error.empty()) {
      try {
        engine_.apply(*load.config, prepared.context);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    if (!error.empty()) {
      log::error("config reload rejected, keeping the running config", {{"error", error}});
      outcome.errors = error + "\n";
      metrics_.recordReload(false);
      return outcome;
    }
    config_ = std::move(*load.config);
    publishConfigFacts(config_);
    metrics_.recordReload(true);
    log::info("config reloaded", {{"trigger", trigger}, {"targets", engine_.targetCount()}});
    outcome.ok = true;
    return outcome;
  }

  void publishConfigFacts(const Config& config) {
    ConfigFacts facts;
    for (const auto& pool : config.pools) {
      facts.pools.push_back({pool.name, pool.labels});
    }
    for (const auto& settings : config.settings) {
      if (settings.client_identity) {
        facts.client_certificates.emplace_back(settings.name, settings.client_identity->not_after);
      }
    }
    board_.setConfigFacts(std::move(facts));
  }

  void shutdown(std::string_view why) {
    log::info("shutting down", {{"signal", why}});
    ready_ = false;
    stop();
  }

  // Each owner closes what it owns; the loop ends when nothing is left.
  void stop() {
    bridge_.close();  // no new work from web threads
    reloads_.close(kReloadShutdownGrace);
    engine_.shutdown();  // on-demand probes waiting on web threads end now
    sigterm_.close();
    sigint_.close();
    sighup_.close();
    config_watch_.close();
  }

  ExporterOptions options_;
  Config config_;
  std::optional<BasicAuth> auth_;
  UvDispatcher dispatcher_;
  StatusBoard board_;
  StateChangeLog state_change_log_;
  HealthSinks sinks_;
  ProbeEngine engine_;
  ExporterMetrics metrics_;
  LoopBridge bridge_;
  ReloadWorker reloads_;
  WebServer web_;
  std::atomic<bool> ready_{false};
  UvHandle<uv_signal_t> sigterm_;
  UvHandle<uv_signal_t> sigint_;
  UvHandle<uv_signal_t> sighup_;
  UvHandle<uv_fs_poll_t> config_watch_;
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
  UvDispatcher dispatcher(uv_default_loop());
  StatusBoard board;
  ProbeEngine engine(dispatcher, board);
  std::vector<ProbeTarget> targets = expandTargets(*load.config);
  try {
    engine.configure(*load.config);  // resolver and limits, but no schedules
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
    engine.shutdown();
    finishLoop(dispatcher);
    return 1;
  }
  std::vector<std::optional<RoundResult>> results(targets.size());
  std::size_t remaining = targets.size();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    engine.probeNow(std::make_shared<const ProbeTarget>(targets[i]), false, [&, i](RoundResult r) {
      results[i] = std::move(r);
      if (--remaining == 0) {
        engine.shutdown();
      }
    });
  }
  if (targets.empty()) {
    engine.shutdown();
  }
  finishLoop(dispatcher);

  struct Row {
    std::string pool, settings, server, state, reason, details;
  };
  std::vector<Row> rows;
  std::map<Reason, int> failing_reasons;
  bool all_healthy = true;
  auto row = [](const std::string& pool, const std::string& settings, const std::string& server,
                HealthState state, Reason reason, const std::string& details) {
    const bool healthy = state == HealthState::kHealthy;
    return Row{pool,
               settings,
               server,
               std::string(stateName(state)),
               healthy ? "" : std::string(describe(reason).name),
               details};
  };
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const ProbeTarget& t = targets[i];
    auto status = statusOfOneRound(std::make_shared<const ProbeTarget>(t), *results[i]);
    rows.push_back(row(t.key.pool, t.key.settings, t.key.server, status->state, status->reason,
                       status->details));
    all_healthy = all_healthy && status->state == HealthState::kHealthy;
    for (const auto& member : status->addresses) {
      if (member.state != HealthState::kHealthy) {
        failing_reasons[member.reason]++;
      }
      // An FQDN server: one line per address under its server.
      if (!t.server_is_ip && !member.address.empty()) {
        const std::string& details = member.last ? member.last->details : member.details;
        rows.push_back(row("", "", "  " + member.address, member.state, member.reason, details));
      }
    }
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
