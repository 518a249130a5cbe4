// What a target's session knows about it: its health, the latest probe and its counters. Each
// publication is an immutable snapshot (a new object per change), shared by the session, the
// status board and every reader, so readers on web threads never see a half-written status and
// never copy one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "config/targets.h"
#include "probe/classify/reason.h"
#include "probe/probe_result.h"

namespace bhe {

// Probes completed, by result: success or each reason (indexed by the Reason enum).
struct ProbeCounts {
  std::uint64_t success = 0;
  std::array<std::uint64_t, kReasonCount> failures{};

  void count(const ProbeResult& result) {
    if (result.success) {
      ++success;
    } else {
      ++failures[static_cast<std::size_t>(result.reason)];
    }
  }
};

struct TargetStatus {
  std::shared_ptr<const ProbeTarget> target;  // key, protocol, path, probe, thresholds...
  std::size_t order = 0;                      // position in the config, for stable listings

  HealthState state = HealthState::kUnknown;
  Reason reason = Reason::kNotYetProbed;  // of a non-healthy state
  std::string details;                    // of the reason, or of the last probe when healthy
  std::int64_t since_unix_ms = 0;         // when the current state began
  int consecutive_failures = 0;
  int consecutive_successes = 0;

  std::shared_ptr<const ProbeResult> last;  // the latest completed probe (without its trace)
  ProbeCounts probes;
  std::uint64_t state_changes = 0;

  const TargetKey& key() const { return target->key; }
};

// The details a status carries after a probe. While healthy, a failed probe below the threshold
// is told as such: "Last probe failed (1 of 3 failures before unhealthy): tcp_connect_error: ...".
std::string statusDetails(HealthState state, const ProbeResult& result, int consecutive_failures,
                          int unhealthy_threshold, const std::string& previous_details);

}  // namespace bhe
