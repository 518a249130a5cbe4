// The probe engine: one schedule per (pool, settings, server) on the libuv loop, the health state
// machine of each, and the hand-over of every result to the StatusBoard.
//
// Schedules: a target's first probe is spread over its first interval (a stable hash of its key)
// so thousands of servers do not start at once; then it is due every `interval`. A target whose
// probe is still running when the next is due gets that next probe right after, never two at
// once. At most max_concurrent_probes run; the rest queue (and show up as schedule lag).
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/targets.h"
#include "probe/health_state.h"
#include "probe/probe_runner.h"
#include "probe/resolver.h"
#include "probe/status_board.h"

namespace bhe {

class ProbeScheduler {
 public:
  ProbeScheduler(uv_loop_t* loop, StatusBoard& board);
  ~ProbeScheduler();
  ProbeScheduler(const ProbeScheduler&) = delete;
  ProbeScheduler& operator=(const ProbeScheduler&) = delete;

  // Applies a validated config. New targets start unknown; removed ones stop and leave the
  // board; targets whose key is unchanged keep their state, counters and (when the interval is
  // unchanged) their schedule. Throws std::runtime_error if the resolver cannot be set up, in
  // which case nothing has changed.
  void apply(const Config& config);

  // The part of apply() that sets up the resolver and probe limits, without any targets (used
  // alone by `probe --once`). Throws std::runtime_error like apply().
  void configureEnvironment(const Config& config);

  // The configured target with this key, or null.
  std::shared_ptr<const ProbeTarget> findTarget(const TargetKey& key) const;

  // Probes an arbitrary target now (used by `probe --once` and the arbitrary-target endpoint).
  void probeTarget(std::shared_ptr<const ProbeTarget> target, bool trace, ProbeDone done);

  // Stops every timer and probe; the loop can then run until its handles are closed.
  void shutdown();

  void setLagObserver(ProbeRunner::LagObserver observer);
  std::size_t targetCount() const { return entries_.size(); }

 private:
  struct Entry;
  void schedule(const std::shared_ptr<Entry>& entry, std::uint64_t first_due_ns);
  void armTimer(Entry& entry);
  void onDue(const std::shared_ptr<Entry>& entry);
  void launch(const std::shared_ptr<Entry>& entry, std::uint64_t due_ns);
  void onResult(Entry& entry, ProbeResult result);
  ProbeEnvironment environment();
  std::shared_ptr<const TlsSettings> tlsFor(const ProbeTarget& target);
  void publishInFlight();

  uv_loop_t* loop_;
  StatusBoard& board_;
  std::shared_ptr<Resolver> resolver_;
  std::vector<std::string> dns_servers_;
  LastKnownAddresses last_known_;
  std::size_t max_response_bytes_ = 65536;
  std::string well_known_bundle_;
  std::shared_ptr<const TlsSettings> well_known_tls_;                      // loaded on first use
  std::map<std::string, std::shared_ptr<const TlsSettings>> private_tls_;  // by settings name
  ProbeRunner runner_;
  std::map<TargetKey, std::shared_ptr<Entry>> entries_;
  bool stopped_ = false;
};

}  // namespace bhe
