// Time and deferred work for everything that runs on the probe loop, behind one small seam: the
// engine's stateful parts (sessions, the runner, the resolver's cache) take a Dispatcher, so that
// unit tests drive them on simulated time (tests/support/simulated_dispatcher.h) while the
// exporter runs them on libuv (common/uv_dispatcher.h). Single-threaded: every call and every
// callback happens on the loop's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace bhe {

// Monotonic time since an arbitrary epoch (libuv: uv_hrtime()).
using MonoTime = std::chrono::nanoseconds;

class Timer {
 public:
  virtual ~Timer() = default;  // stops it: a destroyed timer never fires
  // (Re)starts the timer: it fires once, `delay` from now (rounded up to whole milliseconds).
  virtual void arm(std::chrono::milliseconds delay) = 0;
  virtual void disarm() = 0;
  virtual bool armed() const = 0;
};

class Dispatcher {
 public:
  virtual ~Dispatcher();  // frees the objects still deferred
  virtual MonoTime now() const = 0;
  // The time timer delays count from. libuv takes it once per loop turn (uv_now), so it may lag
  // now() by the turn's work; code that aligns firing times to a grid must align in this time.
  virtual MonoTime loopTime() const { return now(); }
  virtual std::unique_ptr<Timer> createTimer(std::function<void()> on_fire) = 0;
  // Runs `task` on a later loop turn (never from inside this call), in the order posted. Used to
  // hand results over outside the callback that produced them, and to free objects after the
  // callback that finished them has returned.
  virtual void post(std::function<void()> task) = 0;
  // False once the dispatcher runs no more tasks (closed): post() then drops them.
  virtual bool runsTasks() const { return true; }

  // Frees `object` on a later loop turn (Envoy's deferred delete), after every task posted before
  // this call. Allocates nothing per object: it waits in a list, and the task posted for it holds
  // only `this` (std::function stores that in place), where a task owning the object would cost a
  // shared_ptr and a heap-stored callable: two allocations per probe (heaptrack).
  template <typename T>
  void deferDelete(std::unique_ptr<T> object) {
    if (destroying_ || !runsTasks()) {
      return;  // it would never run the task: `object` goes now
    }
    deferred_.emplace_back(object.release(), [](void* p) { delete static_cast<T*>(p); });
    // One task per object, and tasks run in the order posted: the k-th of these tasks to run frees
    // the k-th object deferred.
    post([this] { freeOldestDeferred(); });
  }

 protected:
  // Frees every object still waiting, for a dispatcher that drops its queued tasks.
  void freeAllDeferred();

 private:
  using Deferred = std::unique_ptr<void, void (*)(void*)>;
  void freeOldestDeferred();

  std::vector<Deferred> deferred_;  // [deferred_head_, end) wait; before that, already freed
  std::size_t deferred_head_ = 0;
  bool destroying_ = false;  // in ~Dispatcher, where post() can no longer be called
};

// Milliseconds to wait from `now` until `due`, rounded up; 0 when it is already due.
inline std::chrono::milliseconds delayUntil(MonoTime now, MonoTime due) {
  if (due <= now) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::ceil<std::chrono::milliseconds>(due - now);
}

}  // namespace bhe
