#include "probe/probe_engine.h"

#include <set>

#include "probe/resolve/ares_lookup.h"

namespace bhe {

ProbeEngine::ProbeEngine(UvDispatcher& dispatcher, HealthSink& sink, EngineOptions options)
    : dispatcher_(dispatcher),
      options_(options),
      resolver_(dispatcher, nullptr),
      revocation_(dispatcher,
                  std::make_unique<HttpOverTcp>(dispatcher.loop(), dispatcher, resolver_)),
      prober_(dispatcher.loop(), dispatcher),
      runner_(dispatcher, prober_, 1000),
      reconciler_(dispatcher, resolver_, runner_, sink) {
  prober_.setRevocationFetcher(&revocation_);
}

ProbeEngine::~ProbeEngine() {
  shutdown();
}

ProbeEngine::ContextBuilder ProbeEngine::contextBuilder() const {
  return [any_target = options_.well_known_for_any_target, previous = context_](const Config& c) {
    return ProbeContext::build(c, any_target, previous.get());
  };
}

void ProbeEngine::configure(const Config& config) {
  configure(config, contextBuilder()(config));
}

void ProbeEngine::configure(const Config& config, std::shared_ptr<const ProbeContext> context) {
  // Everything that can fail is built first and committed only when all of it succeeded, so a
  // reload that cannot be applied leaves the running engine untouched.
  std::unique_ptr<DnsLookup> lookup;
  if (!configured_ || config.exporter.dns_servers != dns_servers_) {
    lookup = std::make_unique<AresLookup>(dispatcher_.loop(), config.exporter.dns_servers);
  }

  if (lookup) {
    resolver_.setLookup(std::move(lookup));
    dns_servers_ = config.exporter.dns_servers;
  }
  configured_ = true;
  context_ = std::move(context);
  prober_.setContext(context_);
  runner_.setMaxConcurrent(config.exporter.max_concurrent_probes);
}

void ProbeEngine::apply(const Config& config) {
  apply(config, contextBuilder()(config));
}

void ProbeEngine::apply(const Config& config, std::shared_ptr<const ProbeContext> context) {
  configure(config, std::move(context));
  std::vector<ProbeTarget> targets = expandTargets(config);
  std::set<std::string> names;
  for (const auto& t : targets) {
    if (!t.server_is_ip) {
      names.insert(t.key.server);
    }
  }
  resolver_.retainLastKnown(names);
  reconciler_.apply(targets, context_->maxAddressesPerServer());
}

void ProbeEngine::probeNow(std::shared_ptr<const ProbeTarget> target, bool trace,
                           std::function<void(RoundResult)> done) {
  const std::size_t max_addresses = context_ ? context_->maxAddressesPerServer() : 16;
  auto slot = on_demand_.insert(on_demand_.end(), nullptr);
  *slot = std::make_unique<ServerRound>(
      dispatcher_, resolver_, runner_, std::move(target),
      ServerRound::Options{trace, std::nullopt, max_addresses, nullptr},
      [this, slot, done = std::move(done)](RoundResult result) {
        // Inside the round's own hand-over: free it a turn later.
        dispatcher_.deferDelete(std::move(*slot));
        on_demand_.erase(slot);
        done(std::move(result));
      });
  (*slot)->start();
}

void ProbeEngine::shutdown() {
  reconciler_.clear();
  on_demand_.clear();  // their probes are cancelled; their `done` never runs
  runner_.cancelAll();
  revocation_.cancelAll();
  resolver_.setLookup(nullptr);  // closes the resolver's sockets and timer
}

}  // namespace bhe
