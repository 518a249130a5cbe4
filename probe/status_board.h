// The hand-over point between the probe loop and everything that reads health (metrics, JSON,
// status page): the loop writes a target's status after each probe; readers take snapshots.
// One short mutex section per write or snapshot; readers never call into the loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/targets.h"
#include "probe/probe_result.h"
#include "probe/reason.h"

namespace bhe {

struct TargetStatus {
  TargetKey key;
  std::size_t order = 0;  // position in the config, for stable listings
  Protocol protocol = Protocol::kHttp;
  int port = 80;
  std::string path;
  std::string probe_name;
  std::int64_t interval_ms = 0;
  int unhealthy_threshold = 3;
  int healthy_threshold = 1;

  HealthState state = HealthState::kUnknown;
  Reason reason = Reason::kNotYetProbed;  // of a non-healthy state
  std::string details;                    // of the reason, or of the last probe when healthy
  std::int64_t since_unix_ms = 0;         // when the current state began
  int consecutive_failures = 0;
  int consecutive_successes = 0;

  std::optional<ProbeResult> last;  // the latest completed probe (without its trace)
  std::map<std::string, std::uint64_t> probes_by_result;  // "success" or a reason name
  std::uint64_t state_changes = 0;
};

class StatusBoard {
 public:
  void put(const TargetStatus& status);
  // Removes every target whose key is not in `keep`.
  void retain(const std::vector<TargetKey>& keep);
  std::vector<TargetStatus> snapshot() const;  // ordered by config position
  std::optional<TargetStatus> find(const TargetKey& key) const;
  std::size_t size() const;

  std::atomic<int> probes_in_flight{0};

 private:
  mutable std::mutex mutex_;
  std::map<TargetKey, TargetStatus> targets_;
};

}  // namespace bhe
