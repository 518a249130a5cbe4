#include "exporter/loop_bridge.h"

namespace bhe {

LoopBridge::LoopBridge(uv_loop_t* loop) : async_(new uv_async_t) {
  uv_async_init(loop, async_,
                [](uv_async_t* a) { static_cast<LoopBridge*>(a->data)->runPending(); });
  async_->data = this;
}

bool LoopBridge::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    tasks_.push_back(std::move(task));
    uv_async_send(async_);  // under the lock: close() cannot have closed the handle yet
  }
  return true;
}

void LoopBridge::runPending() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) {
    task();
  }
}

void LoopBridge::close() {
  std::lock_guard lock(mutex_);
  if (closed_) {
    return;
  }
  closed_ = true;
  tasks_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

}  // namespace bhe
