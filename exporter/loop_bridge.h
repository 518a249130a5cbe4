// Hands work from web threads to the probe loop (uv_async_t plus a queue), so that everything
// that touches the engine runs on the loop thread.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>

#include "common/uv_handle.h"

namespace bhe {

class LoopBridge {
 public:
  explicit LoopBridge(uv_loop_t* loop);
  LoopBridge(const LoopBridge&) = delete;
  LoopBridge& operator=(const LoopBridge&) = delete;

  // Any thread. Returns false (and drops `task`) once the bridge is closed.
  bool post(std::function<void()> task);
  // Loop thread. Stops accepting work and closes the async handle; pending tasks are dropped.
  void close();

 private:
  void runPending();

  UvHandle<uv_async_t> async_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  bool closed_ = false;
};

}  // namespace bhe
