// A Dispatcher on simulated time for unit tests: nothing happens until the test advances the
// clock, then timers fire in due order (ties in arming order) and posted tasks run after each
// callback, exactly as on the real loop, in microseconds and without sleeping.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <utility>

#include "common/dispatcher.h"

namespace bhe::test {

class SimulatedDispatcher final : public Dispatcher {
 public:
  // Runs what is still posted (deferred deletes), as the real loop does before it ends.
  ~SimulatedDispatcher() override { runPosted(); }

  MonoTime now() const override { return now_; }
  std::unique_ptr<Timer> createTimer(std::function<void()> on_fire) override;
  void post(std::function<void()> task) override { posted_.push_back(std::move(task)); }

  // Moves time forward by `by`, firing every timer that comes due on the way.
  void advance(std::chrono::nanoseconds by);
  // Moves time forward without firing anything, as a loop blocked by a long callback or a
  // starved CPU would; overdue timers fire on the next advance().
  void stall(std::chrono::nanoseconds by) { now_ += by; }
  // Runs posted tasks (and what they post) at the current time.
  void runPosted();
  std::size_t armedTimers() const { return queue_.size(); }

 private:
  class SimTimer;
  using Key = std::pair<MonoTime, std::uint64_t>;  // due time, arming order

  Key schedule(SimTimer* timer, MonoTime due);
  void cancel(const Key& key) { queue_.erase(key); }

  MonoTime now_{std::chrono::hours(1)};  // not 0: code may treat 0 as "unset"
  std::uint64_t sequence_ = 0;
  std::map<Key, SimTimer*> queue_;
  std::deque<std::function<void()>> posted_;
};

}  // namespace bhe::test
