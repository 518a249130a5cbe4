#include "common/uv_dispatcher.h"

namespace bhe {
namespace {

class UvTimer final : public Timer {
 public:
  UvTimer(uv_loop_t* loop, std::function<void()> on_fire)
      : handle_([loop](uv_timer_t* h) { return uv_timer_init(loop, h); }),
        on_fire_(std::make_shared<std::function<void()>>(std::move(on_fire))) {
    handle_->data = this;
  }

  void arm(std::chrono::milliseconds delay) override {
    uv_timer_start(
        handle_.get(),
        [](uv_timer_t* t) {
          // The callback may destroy this timer (its owner finished): keep the callable alive
          // for the length of the call.
          auto on_fire = static_cast<UvTimer*>(t->data)->on_fire_;
          (*on_fire)();
        },
        static_cast<std::uint64_t>(delay.count()), 0);
  }
  void disarm() override { uv_timer_stop(handle_.get()); }
  bool armed() const override { return uv_is_active(handle_.base()) != 0; }

 private:
  UvHandle<uv_timer_t> handle_;
  std::shared_ptr<std::function<void()>> on_fire_;
};

}  // namespace

UvDispatcher::UvDispatcher(uv_loop_t* loop)
    : loop_(loop), post_timer_([loop](uv_timer_t* h) { return uv_timer_init(loop, h); }) {
  post_timer_->data = this;
}

std::unique_ptr<Timer> UvDispatcher::createTimer(std::function<void()> on_fire) {
  return std::make_unique<UvTimer>(loop_, std::move(on_fire));
}

void UvDispatcher::post(std::function<void()> task) {
  if (!post_timer_.ok()) {
    return;  // closed: the loop is shutting down
  }
  posted_.push_back(std::move(task));
  if (posted_.size() == 1) {
    uv_timer_start(
        post_timer_.get(), [](uv_timer_t* t) { static_cast<UvDispatcher*>(t->data)->runPosted(); },
        0, 0);
  }
}

void UvDispatcher::runPosted() {
  // Tasks posted while these run go to the next turn (the timer is re-armed by post()).
  running_.swap(posted_);
  for (auto& task : running_) {
    task();
  }
  running_.clear();
}

void UvDispatcher::close() {
  posted_.clear();
  post_timer_.close();
  freeAllDeferred();
}

}  // namespace bhe
