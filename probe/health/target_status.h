// What a target's session knows about it: its health, the latest probe and its counters. Each
// publication is an immutable snapshot (a new object per change), shared by the session, the
// status board and every reader, so readers on web threads never see a half-written status and
// never copy one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/targets.h"
#include "probe/classify/reason.h"
#include "probe/health/health_state.h"
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

// One member of a server: one address of its DNS answer (the server itself for an IP-literal
// server), with its own state machine. `address` is empty for the stand-in that carries a name's
// DNS failures while it has no address.
struct AddressStatus {
  std::string address;
  HealthState state = HealthState::kUnknown;
  Reason reason = Reason::kNotYetProbed;
  std::string details;
  std::int64_t since_unix_ms = 0;
  int consecutive_failures = 0;
  int consecutive_successes = 0;
  std::uint64_t probes = 0;  // probes of this member, and how many of them failed
  std::uint64_t failed_probes = 0;
  std::shared_ptr<const ProbeResult> last;  // null until probed

  bool probed() const { return last != nullptr; }
  bool standIn() const { return address.empty(); }
};

// What a status says of the server as a whole; TargetStatus adds its members. A round's next
// snapshot starts from a copy of this part alone, since its members are set anew (applyMembers):
// copying the old ones cost two allocations per probe.
struct ServerSummary {
  std::shared_ptr<const ProbeTarget> target;  // key, protocol, path, probe, thresholds...
  std::size_t order = 0;                      // position in the config, for stable listings

  HealthState state = HealthState::kUnknown;
  Reason reason = Reason::kNotYetProbed;  // of a non-healthy state
  std::string details;                    // of the reason, or of the last probe when healthy
  std::int64_t since_unix_ms = 0;         // when the current state began
  int consecutive_failures = 0;
  int consecutive_successes = 0;

  // The latest completed probe (without its trace) of the member the state comes from.
  std::shared_ptr<const ProbeResult> last;
  ProbeCounts probes;  // every probe of every member
  std::uint64_t state_changes = 0;

  const TargetKey& key() const { return target->key; }
};

struct TargetStatus : ServerSummary {
  // The members, in answer order: every probed address of an FQDN server (at most
  // max_addresses_per_server; `omitted_addresses` more were not probed), the address itself for
  // an IP-literal server, or the stand-in of a name that resolves to nothing.
  std::vector<AddressStatus> addresses;
  std::size_t omitted_addresses = 0;
};

// The details a member carries after a probe. While healthy, a failed probe below the threshold
// is told as such: "Last probe failed (1 of 3 failures before unhealthy): tcp_connect_error: ...".
std::string statusDetails(HealthState state, const ProbeResult& result, int consecutive_failures,
                          int unhealthy_threshold, const std::string& previous_details);

// A server's health from its members: healthy only when every probed member is healthy;
// otherwise the state and reason of the worst probed member (unhealthy before unknown; the
// first in answer order among equals). One member: its own state and details, unchanged. Several:
// details that say how many are healthy and which failed how, e.g.
//   "2 of 3 addresses healthy; 10.0.0.7:443: Connect to 10.0.0.7:443 failed: ..."
// Nothing when no member has been probed yet (the server keeps the state it had).
struct ServerVerdict {
  HealthState state = HealthState::kUnknown;
  Reason reason = Reason::kNotYetProbed;
  std::string details;
  const AddressStatus* decider = nullptr;  // the member the state and the last probe come from
};
std::optional<ServerVerdict> serverVerdict(const std::vector<AddressStatus>& members,
                                           std::size_t omitted, int port);

// One probe result applied to one member through its state machine.
void observeProbe(AddressStatus& member, HealthStateMachine& machine, ProbeResult result,
                  int unhealthy_threshold);

// Sets a server's members and everything derived from them (state, reason, details, streaks,
// last probe; a state change counts and restarts `since`). Returns whether the state changed.
bool applyMembers(TargetStatus& status, std::vector<AddressStatus> members, std::size_t omitted);

// What a single round says on its own (on-demand probes): every member judged by its one
// probe, as a first probe is, and the server's state from them.
std::shared_ptr<TargetStatus> statusOfOneRound(std::shared_ptr<const ProbeTarget> target,
                                               const struct RoundResult& round);

}  // namespace bhe
