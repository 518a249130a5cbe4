#include "probe/health/target_status.h"

#include "common/host_port.h"
#include "common/time_format.h"
#include "probe/server_round.h"

namespace bhe {

std::string statusDetails(HealthState state, const ProbeResult& result, int consecutive_failures,
                          int unhealthy_threshold, const std::string& previous_details) {
  if (result.success) {
    return state == HealthState::kHealthy ? result.details : previous_details;
  }
  if (state == HealthState::kHealthy) {
    return "Last probe failed (" + std::to_string(consecutive_failures) + " of " +
           std::to_string(unhealthy_threshold) +
           " failures before unhealthy): " + std::string(describe(result.reason).name) + ": " +
           result.details;
  }
  return result.details;
}

namespace {

// Worse first: unhealthy, then unknown, then healthy.
int severity(HealthState state) {
  switch (state) {
    case HealthState::kUnhealthy:
      return 2;
    case HealthState::kUnknown:
      return 1;
    case HealthState::kHealthy:
      return 0;
  }
  return 0;
}

}  // namespace

std::optional<ServerVerdict> serverVerdict(const std::vector<AddressStatus>& members,
                                           std::size_t omitted, int port) {
  const AddressStatus* worst = nullptr;
  std::size_t probed = 0;
  std::size_t healthy = 0;
  for (const auto& m : members) {
    if (!m.probed()) {
      continue;
    }
    ++probed;
    healthy += m.state == HealthState::kHealthy ? 1 : 0;
    if (worst == nullptr || severity(m.state) > severity(worst->state)) {
      worst = &m;
    }
  }
  if (worst == nullptr) {
    return std::nullopt;
  }
  ServerVerdict verdict{worst->state, worst->reason, worst->details, worst};
  if (probed == 1 && omitted == 0) {
    return verdict;  // one member: the server is that member
  }
  std::string details =
      std::to_string(healthy) + " of " + std::to_string(probed) + " addresses healthy";
  if (worst->state == HealthState::kHealthy) {
    details += "; " + worst->details;
  } else {
    for (const auto& m : members) {
      if (m.probed() && m.state != HealthState::kHealthy) {
        details += "; " + joinHostPort(m.address, port) + ": " + m.details;
      }
    }
  }
  if (omitted > 0) {
    details +=
        "; " + std::to_string(omitted) + " more addresses not probed (max_addresses_per_server)";
  }
  verdict.details = std::move(details);
  return verdict;
}

void observeProbe(AddressStatus& s, HealthStateMachine& machine, ProbeResult result,
                  int unhealthy_threshold) {
  auto transition =
      result.success ? machine.observeSuccess() : machine.observeFailure(result.reason);
  s.state = machine.state();
  s.consecutive_failures = machine.consecutiveFailures();
  s.consecutive_successes = machine.consecutiveSuccesses();
  s.reason = s.state == HealthState::kHealthy ? Reason::kNotYetProbed : machine.reason();
  s.details =
      statusDetails(s.state, result, s.consecutive_failures, unhealthy_threshold, s.details);
  if (transition.changed || s.since_unix_ms == 0) {
    s.since_unix_ms = unixMillisNow();
  }
  ++s.probes;
  s.failed_probes += result.success ? 0 : 1;
  result.trace.clear();
  s.last = std::make_shared<const ProbeResult>(std::move(result));
}

bool applyMembers(TargetStatus& status, std::vector<AddressStatus> members, std::size_t omitted) {
  status.addresses = std::move(members);
  status.omitted_addresses = omitted;
  const HealthState before = status.state;
  if (auto verdict = serverVerdict(status.addresses, omitted, status.target->port)) {
    status.state = verdict->state;
    status.reason = verdict->reason;
    status.consecutive_failures = verdict->decider->consecutive_failures;
    status.consecutive_successes = verdict->decider->consecutive_successes;
    status.last = verdict->decider->last;
    status.details = std::move(verdict->details);
  }
  if (status.state == before) {
    return false;
  }
  status.state_changes++;
  status.since_unix_ms = unixMillisNow();
  return true;
}

std::shared_ptr<TargetStatus> statusOfOneRound(std::shared_ptr<const ProbeTarget> target,
                                               const RoundResult& round) {
  auto status = std::make_shared<TargetStatus>();
  status->target = target;
  std::vector<AddressStatus> members;
  auto judge = [&](const std::string& address, const ProbeResult& result) {
    HealthStateMachine machine(target->unhealthy_threshold, target->healthy_threshold);
    members.emplace_back().address = address;
    observeProbe(members.back(), machine, result, target->unhealthy_threshold);
    status->probes.count(result);
  };
  if (round.unresolved) {
    judge("", *round.unresolved);
  }
  for (const auto& a : round.addresses) {
    judge(a.address, a.result);
  }
  applyMembers(*status, std::move(members), round.omitted);
  return status;
}

}  // namespace bhe
