#include "exporter/app.h"

#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "common/log.h"
#include "config/config.h"
#include "config/targets.h"
#include "exporter/backend_health_json.h"
#include "exporter/loop_bridge.h"
#include "exporter/metrics.h"
#include "exporter/web_server.h"
#include "probe/probe_result.h"
#include "probe/scheduler.h"
#include "probe/status_board.h"
#include "probe/version.h"

namespace bhe {
namespace {

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
  Exporter(const ExporterOptions& options, Config config)
      : options_(options),
        config_(std::move(config)),
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

    uv_run(loop, UV_RUN_DEFAULT);
    drainLoop(loop);
    uv_loop_close(loop);
    log::info("backend-health-exporter stopped");
    return 0;
  }

 private:
  void routes() {
    web_.route(options_.telemetry_path, {"GET", "HEAD"}, [this](const HttpRequest&) {
      return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
    });
    web_.route("/backend-health", {"GET", "HEAD"}, [this](const HttpRequest&) {
      return HttpResponse{
          200, "application/json", backendHealthJson(board_.snapshot()).dump(2) + "\n", {}};
    });
    web_.route("/-/healthy", {"GET", "HEAD"}, [](const HttpRequest&) {
      return HttpResponse{200, "text/plain; charset=utf-8", "Healthy\n", {}};
    });
    web_.route("/-/ready", {"GET", "HEAD"}, [this](const HttpRequest&) {
      if (!ready_) {
        return HttpResponse{503, "text/plain; charset=utf-8", "Not ready\n", {}};
      }
      return HttpResponse{200, "text/plain; charset=utf-8", "Ready\n", {}};
    });
  }

  // Loop thread. Validates the file again; a bad config leaves the running one untouched.
  bool reload(std::string_view trigger) {
    ConfigLoad load = loadConfigFile(options_.config_file);
    if (!load.config) {
      logConfigErrors(load.errors, "config reload rejected, keeping the running config");
      metrics_.recordReload(false);
      return false;
    }
    try {
      scheduler_.apply(*load.config);
    } catch (const std::exception& e) {
      log::error("config reload rejected, keeping the running config", {{"error", e.what()}});
      metrics_.recordReload(false);
      return false;
    }
    config_ = std::move(*load.config);
    metrics_.recordReload(true);
    log::info("config reloaded", {{"trigger", trigger}, {"targets", scheduler_.targetCount()}});
    return true;
  }

  void shutdown(std::string_view why) {
    log::info("shutting down", {{"signal", why}});
    ready_ = false;
    web_.stop();  // joins the web threads: no handler runs past this point
    bridge_.close();
    scheduler_.shutdown();
    for (uv_signal_t* s : {&sigterm_, &sigint_, &sighup_}) {
      uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    }
  }

  ExporterOptions options_;
  Config config_;
  StatusBoard board_;
  ProbeScheduler scheduler_;
  ExporterMetrics metrics_;
  LoopBridge bridge_;
  WebServer web_;
  std::atomic<bool> ready_{false};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
};

}  // namespace

int runExporter(const ExporterOptions& options) {
  ConfigLoad load = loadConfigFile(options.config_file);
  if (!load.config) {
    logConfigErrors(load.errors, "invalid configuration");
    return 1;
  }
  Exporter exporter(options, std::move(*load.config));
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
