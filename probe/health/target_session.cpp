#include "probe/health/target_session.h"

#include <functional>

#include "common/time_format.h"

namespace bhe {

TargetSession::TargetSession(Dispatcher& dispatcher, ProbeRunner& runner, HealthSink& sink,
                             std::shared_ptr<const ProbeTarget> target, std::size_t order)
    : dispatcher_(dispatcher),
      runner_(runner),
      sink_(sink),
      target_(std::move(target)),
      machine_(target_->unhealthy_threshold, target_->healthy_threshold),
      timer_(dispatcher.createTimer([this] { onDue(); })) {
  auto status = std::make_shared<TargetStatus>();
  status->target = target_;
  status->order = order;
  status->since_unix_ms = unixMillisNow();
  publish(std::move(status));
  scheduleFirst();
}

TargetSession::~TargetSession() {
  if (ticket_ != 0) {
    runner_.cancel(ticket_);
  }
}

void TargetSession::update(std::shared_ptr<const ProbeTarget> target, std::size_t order) {
  const bool reschedule = target->interval != target_->interval;
  machine_.setThresholds(target->unhealthy_threshold, target->healthy_threshold);
  target_ = std::move(target);
  auto next = std::make_shared<TargetStatus>(*status_);
  next->target = target_;
  next->order = order;
  publish(std::move(next));
  if (reschedule) {
    scheduleFirst();
  }
}

void TargetSession::scheduleFirst() {
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(target_->interval);
  const auto offset = std::hash<std::string>{}(target_->key.str()) %
                      static_cast<std::uint64_t>(std::max<std::int64_t>(interval.count(), 1));
  next_due_ = dispatcher_.now() + std::chrono::nanoseconds(offset);
  armTimer();
}

void TargetSession::armTimer() {
  // Round the firing time up to the tick grid (see the header), in the timers' own time.
  const auto delay = delayUntil(dispatcher_.now(), next_due_);
  const auto loop_now =
      std::chrono::duration_cast<std::chrono::milliseconds>(dispatcher_.loopTime());
  const auto fire_at = (loop_now + delay + kTick - std::chrono::milliseconds(1)) / kTick * kTick;
  timer_->arm(fire_at - loop_now);
}

void TargetSession::onDue() {
  const MonoTime due = next_due_;
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(target_->interval);
  next_due_ += interval;
  const MonoTime now = dispatcher_.now();
  if (next_due_ <= now) {
    next_due_ = now + interval;  // more than an interval behind: skip, do not burst
  }
  armTimer();
  if (ticket_ != 0) {
    if (!waiting_due_) {
      waiting_due_ = due;
    }
    return;
  }
  launch(due);
}

void TargetSession::launch(MonoTime due) {
  ticket_ = runner_.submit(ProbeRequest{target_, false}, due,
                           [this](ProbeResult result) { onResult(std::move(result)); });
}

void TargetSession::onResult(ProbeResult result) {
  ticket_ = 0;
  const HealthState before = machine_.state();
  auto transition =
      result.success ? machine_.observeSuccess() : machine_.observeFailure(result.reason);
  auto next = std::make_shared<TargetStatus>(*status_);
  next->probes.count(result);
  next->state = machine_.state();
  next->consecutive_failures = machine_.consecutiveFailures();
  next->consecutive_successes = machine_.consecutiveSuccesses();
  next->reason = next->state == HealthState::kHealthy ? Reason::kNotYetProbed : machine_.reason();
  next->details = statusDetails(next->state, result, next->consecutive_failures,
                                target_->unhealthy_threshold, status_->details);
  if (transition.changed) {
    next->state_changes++;
    next->since_unix_ms = unixMillisNow();
  }
  result.trace.clear();
  next->last = std::make_shared<const ProbeResult>(std::move(result));
  publish(next);
  if (transition.changed) {
    sink_.onStateChanged(*next, before);
  }
  if (waiting_due_) {
    const MonoTime due = *waiting_due_;
    waiting_due_.reset();
    launch(due);
  }
}

void TargetSession::publish(std::shared_ptr<TargetStatus> next) {
  status_ = next;
  sink_.onStatus(status_);
}

}  // namespace bhe
