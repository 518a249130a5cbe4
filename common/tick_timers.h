// Timers on a grid, all behind one timer of the dispatcher: the schedule of every target session
// (10 ms grid) and every probe's deadline (1 ms). A timer armed with `delay` fires at the first
// grid point at or after `delay` from now (in the dispatcher's loopTime()), together with every
// other timer due at that point, in the order they were armed.
//
// Why not one dispatcher timer each: libuv keeps its timers in a binary heap of linked nodes,
// so with thousands of sessions every start and expiry walks a dozen cold nodes, and a timer per
// probe is created, heaped and closed; together 4-6% of a plain-HTTP probe's CPU. Here arming is
// a push onto the bucket of its grid point (a map of the few hundred points in use), and firing
// takes whole buckets.
//
//   TickTimers ticks(dispatcher, std::chrono::milliseconds(10));
//   auto timer = ticks.createTimer([] { ... });
//   timer->arm(std::chrono::milliseconds(995));  // fires at the next 10 ms point after 995 ms
//
// Single-threaded, as the dispatcher. A timer may outlive the TickTimers that made it (a probe
// freed after the prober at shutdown): it is then unarmed, and must not be armed again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "common/dispatcher.h"

namespace bhe {

// The first point at or after `t` of the grid of `step` (counted from the clock's epoch, as
// TickTimers count their grid in loop time).
inline MonoTime nextGridPoint(MonoTime t, MonoTime step) {
  const auto points = (t.count() + step.count() - 1) / step.count();
  return MonoTime(points * step.count());
}

class TickTimers {
 public:
  TickTimers(Dispatcher& dispatcher, std::chrono::milliseconds tick);
  ~TickTimers();
  TickTimers(const TickTimers&) = delete;
  TickTimers& operator=(const TickTimers&) = delete;

  // A timer on this grid: arm(delay) rounds the firing time up to the next grid point.
  std::unique_ptr<Timer> createTimer(std::function<void()> on_fire);
  // Timers armed and not yet fired.
  std::size_t armedTimers() const;

 private:
  class GridTimer;
  using Point = std::int64_t;  // grid point: milliseconds of loop time / tick

  void add(GridTimer* timer, Point point);
  void remove(GridTimer* timer);
  void eraseBucket(std::map<Point, std::vector<GridTimer*>>::iterator bucket);
  void fireDue();
  void armDispatcherTimer();
  std::chrono::milliseconds loopMillis() const;

  Dispatcher& dispatcher_;
  std::chrono::milliseconds tick_;
  std::unique_ptr<Timer> timer_;  // armed for the earliest bucket
  std::map<Point, std::vector<GridTimer*>> buckets_;
  std::vector<GridTimer*> firing_;  // taken from their buckets, not yet called
  // Emptied buckets' storage, for the next new buckets: at 2,000 probes per second a fresh
  // bucket's vector regrew about once per probe.
  std::vector<std::vector<GridTimer*>> spare_;
};

}  // namespace bhe
