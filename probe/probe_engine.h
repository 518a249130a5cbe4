// The probe engine as the exporter uses it: the resolver, the probe context of the current
// configuration, the pipeline prober, the runner and the reconciler of target sessions, all on
// one libuv loop. Owns the order of set-up and shutdown; the parts are unit-tested on their own.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/uv_dispatcher.h"
#include "config/config.h"
#include "probe/health/health_sink.h"
#include "probe/probe_pipeline.h"
#include "probe/probe_runner.h"
#include "probe/reconciler.h"
#include "probe/resolve/resolver.h"
#include "probe/server_round.h"

namespace bhe {

struct EngineOptions {
  // Load the well-known CA bundle even when no HTTPS settings need it (arbitrary /probe targets).
  bool well_known_for_any_target = false;
};

class ProbeEngine {
 public:
  ProbeEngine(UvDispatcher& dispatcher, HealthSink& sink, EngineOptions options = {});
  ~ProbeEngine();
  ProbeEngine(const ProbeEngine&) = delete;
  ProbeEngine& operator=(const ProbeEngine&) = delete;

  // Applies a validated config: probing environment first (TLS contexts, DNS servers, limits),
  // then the targets. Throws std::runtime_error when the environment cannot be built, and then
  // nothing has changed.
  void apply(const Config& config);
  // The same with the TLS contexts and limits already built, off the loop, by contextBuilder().
  void apply(const Config& config, std::shared_ptr<const ProbeContext> context);
  // The environment part alone, without targets (`probe --once`).
  void configure(const Config& config);

  // Builds the probe context of a config (TLS contexts, the CA bundle read unless the running
  // context's can be reused); throws as ProbeContext::build. Made on the loop, callable on any
  // thread: the reload reads and builds off the loop.
  using ContextBuilder = std::function<std::shared_ptr<const ProbeContext>(const Config&)>;
  ContextBuilder contextBuilder() const;

  std::shared_ptr<const ProbeTarget> findTarget(const TargetKey& key) const {
    return reconciler_.find(key);
  }
  std::size_t targetCount() const { return reconciler_.size(); }

  // Probes a target now, outside its schedule (on-demand, `probe --once`): one round, every
  // address of an FQDN server. `done` runs once, unless the engine shuts down first.
  void probeNow(std::shared_ptr<const ProbeTarget> target, bool trace,
                std::function<void(RoundResult)> done);

  ProbeRunner& runner() { return runner_; }

  // Stops every session and probe; the loop then runs until their handles are closed.
  void shutdown();

 private:
  UvDispatcher& dispatcher_;
  EngineOptions options_;
  Resolver resolver_;
  RevocationFetcher revocation_;  // OCSP/CRL answers, shared by every probe of the process
  std::vector<std::string> dns_servers_;
  bool configured_ = false;
  std::shared_ptr<const ProbeContext> context_;
  PipelineProber prober_;
  ProbeRunner runner_;
  Reconciler reconciler_;
  std::list<std::unique_ptr<ServerRound>> on_demand_;

  void configure(const Config& config, std::shared_ptr<const ProbeContext> context);
};

}  // namespace bhe
