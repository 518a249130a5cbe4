#include "probe/health/target_session.h"

#include <algorithm>
#include <functional>

#include "common/time_format.h"

namespace bhe {

TargetSession::TargetSession(SessionContext& context, std::shared_ptr<const ProbeTarget> target,
                             std::size_t order)
    : context_(context),
      target_(std::move(target)),
      timer_(context.schedule_timers.createTimer([this] { onDue(); })) {
  auto status = std::make_shared<TargetStatus>();
  status->target = target_;
  status->order = order;
  status->since_unix_ms = unixMillisNow();
  publish(std::move(status));
  scheduleFirst();
}

TargetSession::~TargetSession() = default;

void TargetSession::update(std::shared_ptr<const ProbeTarget> target, std::size_t order) {
  const bool reschedule = target->interval != target_->interval ||
                          target->unhealthy_interval != target_->unhealthy_interval;
  for (auto& m : members_) {
    m.machine.setThresholds(target->unhealthy_threshold, target->healthy_threshold);
  }
  target_ = std::move(target);
  auto next = std::make_shared<TargetStatus>(*status_);
  next->target = target_;
  next->order = order;
  publish(std::move(next));
  if (reschedule) {
    scheduleFirst();
  }
}

std::chrono::milliseconds TargetSession::currentInterval() const {
  bool failing = status_->last != nullptr && status_->state != HealthState::kHealthy;
  for (const auto& m : members_) {
    failing = failing || (m.status.probed() && m.status.state != HealthState::kHealthy);
  }
  return failing ? target_->unhealthy_interval : target_->interval;
}

std::chrono::milliseconds TargetSession::phaseStepFor(double rounds_per_second) {
  if (!(rounds_per_second > 0)) {
    return kMaxPhaseStep;
  }
  const double ticks =
      kProbesPerPhaseStep / rounds_per_second / std::chrono::duration<double>(kTick).count();
  const auto max_ticks = kMaxPhaseStep / kTick;
  return kTick * std::clamp<std::int64_t>(static_cast<std::int64_t>(ticks), 1, max_ticks);
}

void TargetSession::scheduleFirst() {
  interval_ = currentInterval();
  const auto step = std::chrono::nanoseconds(std::max(context_.phase_step, kTick));
  const auto steps = std::max<std::int64_t>(std::chrono::nanoseconds(interval_) / step, 1);
  const auto slot = static_cast<std::int64_t>(std::hash<std::string>{}(target_->key.str()) %
                                              static_cast<std::uint64_t>(steps));
  next_due_ = nextGridPoint(context_.dispatcher.now(), step) + slot * step;
  armTimer();
}

void TargetSession::armTimer() {
  // Counted from the loop's time, as the schedule timers count: a due time on their grid then
  // fires exactly at that grid point.
  timer_->arm(delayUntil(context_.dispatcher.loopTime(), next_due_));
}

void TargetSession::onDue() {
  const MonoTime due = next_due_;
  interval_ = currentInterval();
  next_due_ += interval_;
  const MonoTime now = context_.dispatcher.now();
  if (next_due_ <= now) {
    // More than an interval behind: skip, do not burst.
    next_due_ = nextGridPoint(now, kTick) + interval_;
  }
  armTimer();
  if (round_) {
    if (!waiting_due_) {
      waiting_due_ = due;
    }
    return;
  }
  launch(due);
}

void TargetSession::launch(MonoTime due) {
  round_due_ = due;
  ServerRound::Options options{false, due, context_.max_addresses_per_server, nullptr};
  if (target_->protocol == Protocol::kHttps) {
    options.tls_memory = [this](const std::string& address) {
      auto& memory = tls_memory_[address];
      if (!memory) {
        memory = std::make_shared<TlsTargetMemory>();
      }
      return memory;
    };
  }
  round_ = std::make_unique<ServerRound>(context_.dispatcher, context_.resolver, context_.runner,
                                         target_, std::move(options),
                                         [this](RoundResult round) { onRound(std::move(round)); });
  round_->start();
}

TargetSession::Member TargetSession::takeMember(std::vector<Member>& members,
                                                const std::string& address,
                                                bool continue_server) const {
  for (auto& m : members) {
    if (m.status.address == address) {
      return std::move(m);
    }
  }
  const int unhealthy = target_->unhealthy_threshold;
  const int healthy = target_->healthy_threshold;
  Member fresh{AddressStatus{}, HealthStateMachine(unhealthy, healthy)};
  fresh.status.address = address;
  fresh.status.since_unix_ms = unixMillisNow();
  if (continue_server) {
    // From the member the server's state came from: its own details, not the server's summary.
    auto decider = std::find_if(members.begin(), members.end(), [&](const Member& m) {
      return m.status.probed() && m.status.state == status_->state;
    });
    fresh.machine =
        HealthStateMachine::continuing(unhealthy, healthy, status_->state, status_->reason);
    fresh.status.state = status_->state;
    fresh.status.reason = status_->reason;
    fresh.status.details = decider != members.end() ? decider->status.details : status_->details;
    fresh.status.since_unix_ms = status_->since_unix_ms;
  }
  return fresh;
}

void TargetSession::onRound(RoundResult round) {
  round_.reset();  // this runs inside the round's hand-over, which touches nothing after it
  auto next = std::make_shared<TargetStatus>();
  static_cast<ServerSummary&>(*next) = *status_;  // the members follow from this round
  auto in_round = [&](const Member& m) {
    if (m.status.standIn()) {
      return round.unresolved.has_value();
    }
    return std::any_of(round.addresses.begin(), round.addresses.end(),
                       [&](const auto& a) { return a.address == m.status.address; });
  };
  const bool continue_server = !members_.empty() &&
                               std::none_of(members_.begin(), members_.end(), in_round) &&
                               std::any_of(members_.begin(), members_.end(),
                                           [](const Member& m) { return m.status.probed(); });
  std::vector<Member> members;
  auto observe = [&](const std::string& address, ProbeResult result) {
    next->probes.count(result);
    members.push_back(takeMember(members_, address, continue_server));
    observeProbe(members.back().status, members.back().machine, std::move(result),
                 target_->unhealthy_threshold);
  };
  if (round.unresolved) {
    observe("", std::move(*round.unresolved));
  }
  for (auto& probed : round.addresses) {
    observe(probed.address, std::move(probed.result));
  }
  members_ = std::move(members);
  std::erase_if(tls_memory_, [&](const auto& entry) {
    return std::none_of(members_.begin(), members_.end(),
                        [&](const Member& m) { return m.status.address == entry.first; });
  });
  std::vector<AddressStatus> statuses;
  for (const auto& m : members_) {
    statuses.push_back(m.status);
  }
  const HealthState before = status_->state;
  const bool changed = applyMembers(*next, std::move(statuses), round.omitted);
  publish(next);
  if (changed) {
    context_.sink.onStateChanged(*next, before);
  }

  // A state change may change the interval: the next round is due that long after this one.
  if (const auto interval = currentInterval(); interval != interval_) {
    interval_ = interval;
    next_due_ = std::max(round_due_ + interval, nextGridPoint(context_.dispatcher.now(), kTick));
    armTimer();
  }
  if (waiting_due_) {
    const MonoTime due = *waiting_due_;
    waiting_due_.reset();
    launch(due);
  }
}

void TargetSession::publish(std::shared_ptr<TargetStatus> next) {
  status_ = next;
  context_.sink.onStatus(status_);
}

}  // namespace bhe
