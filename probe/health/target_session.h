// One (pool, settings, server) over time: its schedule, its members and their health state
// machines, and its counters (the pattern of Envoy's ActiveHealthCheckSession). Whenever a round
// is due the session starts one (probe/server_round.h: the resolve phase for an FQDN server, then
// one probe per address), applies each address's result to that member's thresholds, derives the
// server's state from its members and emits what changed to its sink.
//
// Members. An IP-literal server has one member, itself. An FQDN server has one per address of
// its latest answer: members that stay keep their state and counters, new ones start
// not_yet_probed (and are probed in the same round, so the server's state never flips to
// unknown for them), gone ones disappear. A name that resolves to nothing has one stand-in
// member without an address that carries the DNS failure. When no member of the previous round
// stays (the name stops or starts resolving, or moves to entirely new addresses), the new members
// continue the server's state instead of starting over: a healthy server needs
// unhealthy_threshold failed rounds to turn unhealthy, an unhealthy one healthy_threshold good
// rounds to recover, exactly as with a single address.
//
// Schedule. The first round is due at a stable offset into the first interval (a hash of the
// key), so thousands of targets loaded at once do not probe at once; then every `interval`, or
// every `unhealthy_interval` while the server or any member is not healthy. A round that comes due
// while the previous one still runs starts right after it, never beside it; when the session
// falls more than a whole interval behind, the missed rounds are skipped, not made up in a burst.
// Timers fire on a 10 ms grid (common/tick_timers.h, one dispatcher timer for every session), and
// every due time is a point of that grid (the offsets are whole phase steps, and intervals are
// counted from grid points), so a round starts when it is due, not up to a tick later. Probes due
// at the same point start in the same loop turn, so their sockets complete in shared wake-ups:
// each wake-up is a context switch, which costs more CPU than the probe's own work. At low probe
// rates the phase step is coarser than the tick (phaseStepFor), so that a wake-up still serves
// several probes; at high rates it is the tick, so that no turn starts a large burst.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/dispatcher.h"
#include "common/tick_timers.h"
#include "probe/health/health_sink.h"
#include "probe/health/health_state.h"
#include "probe/probe_runner.h"
#include "probe/resolve/resolver.h"
#include "probe/server_round.h"

namespace bhe {

// What every session of the engine shares.
struct SessionContext {
  Dispatcher& dispatcher;
  Resolver& resolver;
  ProbeRunner& runner;
  HealthSink& sink;
  TickTimers& schedule_timers;  // on the grid of TargetSession::kTick
  std::size_t max_addresses_per_server = 16;
  // First rounds are due at whole multiples of this step (a multiple of the tick): set from the
  // configuration's probe rate with TargetSession::phaseStepFor before sessions are made.
  std::chrono::milliseconds phase_step{10};
};

class TargetSession {
 public:
  static constexpr std::chrono::milliseconds kTick{10};
  // The coarsest phase step: first rounds start at no fewer than 10 distinct times a second
  // (still within the first interval), however few the probes.
  static constexpr std::chrono::milliseconds kMaxPhaseStep{100};
  // About this many probes share each phase step, up to kMaxPhaseStep. At 300 probes/s, 32 per
  // 100 ms cost 0.83x the CPU per probe of 16 per 50 ms (the kernel's TCP path is cheaper in
  // longer bursts) for 0.2-0.3 ms more schedule lag; from 1,600/s up the step is the 10 ms tick.
  static constexpr double kProbesPerPhaseStep = 32;

  // The phase step for sessions whose rounds add up to `rounds_per_second`: a multiple of kTick
  // between kTick and kMaxPhaseStep.
  static std::chrono::milliseconds phaseStepFor(double rounds_per_second);

  TargetSession(SessionContext& context, std::shared_ptr<const ProbeTarget> target,
                std::size_t order);
  // A round still running is cancelled; its results are never applied.
  ~TargetSession();
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // A reload kept this key: state, members, counters and streaks stay; new thresholds apply from
  // the next result; the schedule stays unless the interval changed.
  void update(std::shared_ptr<const ProbeTarget> target, std::size_t order);

  const std::shared_ptr<const ProbeTarget>& target() const { return target_; }
  const std::shared_ptr<const TargetStatus>& status() const { return status_; }
  bool roundInFlight() const { return round_ != nullptr; }
  MonoTime nextDue() const { return next_due_; }

 private:
  struct Member {
    AddressStatus status;
    HealthStateMachine machine;
  };

  std::chrono::milliseconds currentInterval() const;
  void scheduleFirst();
  void armTimer();
  void onDue();
  void launch(MonoTime due);
  void onRound(RoundResult round);
  // The member of `address` from the previous round, else a new one: not yet probed, or when
  // `continue_server` the server's current state carried over (see the header comment).
  Member takeMember(std::vector<Member>& members, const std::string& address,
                    bool continue_server) const;
  void publish(std::shared_ptr<TargetStatus> next);

  SessionContext& context_;
  std::shared_ptr<const ProbeTarget> target_;
  std::vector<Member> members_;
  // The TLS memory of each address probed, kept while the address stays in the answer.
  std::map<std::string, std::shared_ptr<TlsTargetMemory>> tls_memory_;
  std::shared_ptr<const TargetStatus> status_;
  std::unique_ptr<Timer> timer_;
  MonoTime next_due_{0};
  MonoTime round_due_{0};                  // when the latest round was due
  std::chrono::milliseconds interval_{0};  // the interval next_due_ was computed with
  std::unique_ptr<ServerRound> round_;     // the round in flight
  std::optional<MonoTime> waiting_due_;    // a round came due while one was running
};

}  // namespace bhe
