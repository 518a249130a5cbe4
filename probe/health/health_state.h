// The per-target health state machine (README: "States and reasons"). Pure: it sees only probe
// outcomes.
//
//   unknown (not_yet_probed) --first probe--> healthy | the failure's state
//   healthy   --unhealthy_threshold consecutive failures--> unhealthy | unknown (by reason)
//   unhealthy/unknown --healthy_threshold consecutive successes--> healthy
// While not healthy, every failure refreshes the reason (and with it unhealthy vs unknown).
#pragma once

#include "probe/classify/reason.h"

namespace bhe {

class HealthStateMachine {
 public:
  HealthStateMachine(int unhealthy_threshold, int healthy_threshold);
  // A machine that has been probed and is in `state` (with `reason` when not healthy), with no
  // streak yet: it carries a state over from another machine of the same server.
  static HealthStateMachine continuing(int unhealthy_threshold, int healthy_threshold,
                                       HealthState state, Reason reason);

  struct Transition {
    bool changed = false;
    HealthState from = HealthState::kUnknown;
    HealthState to = HealthState::kUnknown;
  };
  Transition observeSuccess();
  Transition observeFailure(Reason reason);

  // A reload may change thresholds without resetting the streaks.
  void setThresholds(int unhealthy_threshold, int healthy_threshold);

  HealthState state() const { return state_; }
  // The reason carried by a non-healthy state; meaningless while healthy.
  Reason reason() const { return reason_; }
  bool probed() const { return probed_; }
  int consecutiveFailures() const { return failures_; }
  int consecutiveSuccesses() const { return successes_; }

 private:
  Transition moveTo(HealthState next);

  int unhealthy_threshold_;
  int healthy_threshold_;
  HealthState state_ = HealthState::kUnknown;
  Reason reason_ = Reason::kNotYetProbed;
  bool probed_ = false;
  int failures_ = 0;
  int successes_ = 0;
};

}  // namespace bhe
