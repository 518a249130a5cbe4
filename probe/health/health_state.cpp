#include "probe/health/health_state.h"

#include <algorithm>

namespace bhe {

HealthStateMachine::HealthStateMachine(int unhealthy_threshold, int healthy_threshold) {
  setThresholds(unhealthy_threshold, healthy_threshold);
}

HealthStateMachine HealthStateMachine::continuing(int unhealthy_threshold, int healthy_threshold,
                                                  HealthState state, Reason reason) {
  HealthStateMachine machine(unhealthy_threshold, healthy_threshold);
  machine.probed_ = true;
  machine.state_ = state;
  machine.reason_ = reason;
  return machine;
}

void HealthStateMachine::setThresholds(int unhealthy_threshold, int healthy_threshold) {
  unhealthy_threshold_ = std::max(1, unhealthy_threshold);
  healthy_threshold_ = std::max(1, healthy_threshold);
}

HealthStateMachine::Transition HealthStateMachine::moveTo(HealthState next) {
  Transition t{next != state_, state_, next};
  state_ = next;
  return t;
}

HealthStateMachine::Transition HealthStateMachine::observeSuccess() {
  bool first = !probed_;
  probed_ = true;
  failures_ = 0;
  ++successes_;
  if (first || state_ == HealthState::kHealthy || successes_ >= healthy_threshold_) {
    return moveTo(HealthState::kHealthy);
  }
  return {};
}

HealthStateMachine::Transition HealthStateMachine::observeFailure(Reason reason) {
  bool first = !probed_;
  probed_ = true;
  successes_ = 0;
  ++failures_;
  if (first || state_ != HealthState::kHealthy || failures_ >= unhealthy_threshold_) {
    reason_ = reason;
    return moveTo(describe(reason).state);
  }
  return {};
}

}  // namespace bhe
