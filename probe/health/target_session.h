// One (pool, settings, server) over time: its schedule, its health state machine and its
// counters (the pattern of Envoy's ActiveHealthCheckSession). The session asks the runner for a
// probe whenever one is due, applies the result to the thresholds and emits what changed to its
// sink.
//
// Schedule. The first probe is due at a stable offset into the first interval (a hash of the
// key), so thousands of targets loaded at once do not probe at once; then every `interval`.
// A probe that comes due while the previous one still runs starts right after it, never beside
// it; when the session falls more than a whole interval behind, the missed probes are skipped,
// not made up in a burst. Timers fire on a 10 ms grid: probes due within the same tick start in
// the same loop turn, so their sockets complete in shared wake-ups (each wake-up is a context
// switch, which costs far more CPU than the tick costs in punctuality).
#pragma once

#include <memory>
#include <optional>

#include "common/dispatcher.h"
#include "probe/health/health_sink.h"
#include "probe/health/health_state.h"
#include "probe/probe_runner.h"

namespace bhe {

class TargetSession {
 public:
  static constexpr std::chrono::milliseconds kTick{10};

  TargetSession(Dispatcher& dispatcher, ProbeRunner& runner, HealthSink& sink,
                std::shared_ptr<const ProbeTarget> target, std::size_t order);
  // A probe still running is cancelled; its result is never applied.
  ~TargetSession();
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // A reload kept this key: state, counters and streaks stay; new thresholds apply from the next
  // result; the schedule stays unless the interval changed.
  void update(std::shared_ptr<const ProbeTarget> target, std::size_t order);

  const std::shared_ptr<const ProbeTarget>& target() const { return target_; }
  const std::shared_ptr<const TargetStatus>& status() const { return status_; }
  bool probeInFlight() const { return ticket_ != 0; }
  MonoTime nextDue() const { return next_due_; }

 private:
  void scheduleFirst();
  void armTimer();
  void onDue();
  void launch(MonoTime due);
  void onResult(ProbeResult result);
  void publish(std::shared_ptr<TargetStatus> next);

  Dispatcher& dispatcher_;
  ProbeRunner& runner_;
  HealthSink& sink_;
  std::shared_ptr<const ProbeTarget> target_;
  HealthStateMachine machine_;
  std::shared_ptr<const TargetStatus> status_;
  std::unique_ptr<Timer> timer_;
  MonoTime next_due_{0};
  ProbeRunner::Ticket ticket_ = 0;       // the probe in flight, 0 = none
  std::optional<MonoTime> waiting_due_;  // a probe came due while one was running
};

}  // namespace bhe
