// Applies a configuration's targets to the running sessions: a session per key, started for new
// keys, updated for kept ones (their state, counters and, unless the interval changed, their
// schedule stay), stopped for keys that are gone (which also leave every sink).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "probe/health/target_session.h"

namespace bhe {

class Reconciler {
 public:
  Reconciler(Dispatcher& dispatcher, Resolver& resolver, ProbeRunner& runner, HealthSink& sink)
      : schedule_timers_(dispatcher, TargetSession::kTick),
        context_{dispatcher, resolver, runner, sink, schedule_timers_} {}
  ~Reconciler() { clear(); }
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // `targets` in config order; a key listed twice is probed once (its first entry).
  void apply(const std::vector<ProbeTarget>& targets, std::size_t max_addresses_per_server = 16);
  // Stops every session (shutdown).
  void clear();

  std::shared_ptr<const ProbeTarget> find(const TargetKey& key) const;
  const TargetSession* session(const TargetKey& key) const;
  std::size_t size() const { return sessions_.size(); }

 private:
  TickTimers schedule_timers_;  // outlives the sessions' timers
  SessionContext context_;
  std::map<TargetKey, std::unique_ptr<TargetSession>> sessions_;
};

}  // namespace bhe
