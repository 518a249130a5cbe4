// The Dispatcher of the running exporter: libuv timers and a post queue on one uv_loop_t.
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

#include "common/dispatcher.h"
#include "common/uv_handle.h"

namespace bhe {

class UvDispatcher final : public Dispatcher {
 public:
  explicit UvDispatcher(uv_loop_t* loop);
  UvDispatcher(const UvDispatcher&) = delete;
  UvDispatcher& operator=(const UvDispatcher&) = delete;

  uv_loop_t* loop() const { return loop_; }

  MonoTime now() const override { return MonoTime(uv_hrtime()); }
  MonoTime loopTime() const override { return std::chrono::milliseconds(uv_now(loop_)); }
  std::unique_ptr<Timer> createTimer(std::function<void()> on_fire) override;
  void post(std::function<void()> task) override;
  bool runsTasks() const override { return post_timer_.ok(); }

  // Drops queued tasks, frees the objects still deferred, and closes the post queue's handle (the
  // loop can then finish).
  void close();

 private:
  void runPosted();

  uv_loop_t* loop_;
  UvHandle<uv_timer_t> post_timer_;
  // Two queues swapped each turn, so their capacity is reused: a fresh std::deque per turn cost
  // two allocations per probe.
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;
};

}  // namespace bhe
