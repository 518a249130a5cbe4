#include "tests/support/simulated_dispatcher.h"

#include <algorithm>
#include <optional>

namespace bhe::test {

class SimulatedDispatcher::SimTimer final : public Timer {
 public:
  SimTimer(SimulatedDispatcher& owner, std::function<void()> on_fire)
      : owner_(owner), on_fire_(std::move(on_fire)) {}
  ~SimTimer() override { disarm(); }

  void arm(std::chrono::milliseconds delay) override {
    disarm();
    key_ = owner_.schedule(this, owner_.now() + delay);
  }
  void disarm() override {
    if (key_) {
      owner_.cancel(*key_);
      key_.reset();
    }
  }
  bool armed() const override { return key_.has_value(); }

  void fire() {
    key_.reset();
    auto on_fire = on_fire_;  // the callback may destroy this timer
    on_fire();
  }

 private:
  SimulatedDispatcher& owner_;
  std::function<void()> on_fire_;
  std::optional<Key> key_;
};

std::unique_ptr<Timer> SimulatedDispatcher::createTimer(std::function<void()> on_fire) {
  return std::make_unique<SimTimer>(*this, std::move(on_fire));
}

SimulatedDispatcher::Key SimulatedDispatcher::schedule(SimTimer* timer, MonoTime due) {
  Key key{due, sequence_++};
  queue_.emplace(key, timer);
  return key;
}

void SimulatedDispatcher::runPosted() {
  while (!posted_.empty()) {
    auto task = std::move(posted_.front());
    posted_.pop_front();
    task();
  }
}

void SimulatedDispatcher::advance(std::chrono::nanoseconds by) {
  const MonoTime until = now_ + by;
  runPosted();
  while (!queue_.empty() && queue_.begin()->first.first <= until) {
    auto [key, timer] = *queue_.begin();
    queue_.erase(queue_.begin());
    now_ = std::max(now_, key.first);  // overdue after a stall: fires late, time never runs back
    timer->fire();
    runPosted();
  }
  now_ = until;
}

}  // namespace bhe::test
