#include "exporter/loop_bridge.h"

namespace bhe {

LoopBridge::LoopBridge(uv_loop_t* loop)
    : async_([loop](uv_async_t* h) {
        return uv_async_init(loop, h, [](uv_async_t* a) {
          if (auto* self = static_cast<LoopBridge*>(a->data)) {
            self->runPending();
          }
        });
      }) {
  async_->data = this;
}

bool LoopBridge::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    tasks_.push_back(std::move(task));
    uv_async_send(async_.get());  // under the lock: close() cannot have closed the handle yet
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
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;
    dropped.swap(tasks_);
    async_.close();
  }
}

}  // namespace bhe
