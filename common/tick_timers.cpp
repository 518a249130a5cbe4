#include "common/tick_timers.h"

#include <algorithm>

namespace bhe {

class TickTimers::GridTimer final : public Timer {
 public:
  GridTimer(TickTimers& owner, std::function<void()> on_fire)
      : owner_(&owner), on_fire_(std::move(on_fire)) {}
  ~GridTimer() override { disarm(); }

  void arm(std::chrono::milliseconds delay) override {
    disarm();
    const auto tick = owner_->tick_;
    const auto fire_at = owner_->loopMillis() + std::max(delay, std::chrono::milliseconds(0));
    owner_->add(this, (fire_at + tick - std::chrono::milliseconds(1)) / tick);
  }
  void disarm() override {
    if (armed()) {
      owner_->remove(this);
    }
  }
  bool armed() const override { return point_ != kUnarmed || firing_; }

 private:
  friend class TickTimers;
  static constexpr Point kUnarmed = -1;

  TickTimers* owner_;
  std::function<void()> on_fire_;
  Point point_ = kUnarmed;  // the bucket it waits in
  bool firing_ = false;     // taken out of its bucket for this turn's firing, not yet called
};

TickTimers::TickTimers(Dispatcher& dispatcher, std::chrono::milliseconds tick)
    : dispatcher_(dispatcher),
      tick_(std::max(tick, std::chrono::milliseconds(1))),
      timer_(dispatcher.createTimer([this] { fireDue(); })) {}

TickTimers::~TickTimers() {
  // Timers that outlive their owner are left unarmed, so that their destructors touch nothing.
  for (auto& [point, timers] : buckets_) {
    for (GridTimer* t : timers) {
      t->point_ = GridTimer::kUnarmed;
    }
  }
  for (GridTimer* t : firing_) {
    if (t != nullptr) {
      t->firing_ = false;
    }
  }
}

std::unique_ptr<Timer> TickTimers::createTimer(std::function<void()> on_fire) {
  return std::make_unique<GridTimer>(*this, std::move(on_fire));
}

std::size_t TickTimers::armedTimers() const {
  std::size_t armed = static_cast<std::size_t>(
      std::count_if(firing_.begin(), firing_.end(),
                    [](const GridTimer* t) { return t != nullptr && t->firing_; }));
  for (const auto& [point, timers] : buckets_) {
    armed += timers.size();
  }
  return armed;
}

std::chrono::milliseconds TickTimers::loopMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(dispatcher_.loopTime());
}

void TickTimers::add(GridTimer* timer, Point point) {
  const bool earliest = buckets_.empty() || point < buckets_.begin()->first;
  auto [bucket, created] = buckets_.try_emplace(point);
  if (created && !spare_.empty()) {
    bucket->second = std::move(spare_.back());
    spare_.pop_back();
  }
  bucket->second.push_back(timer);
  timer->point_ = point;
  if (earliest) {
    armDispatcherTimer();
  }
}

void TickTimers::remove(GridTimer* timer) {
  if (timer->firing_) {
    timer->firing_ = false;
    std::replace(firing_.begin(), firing_.end(), timer, static_cast<GridTimer*>(nullptr));
    return;
  }
  auto bucket = buckets_.find(timer->point_);
  timer->point_ = GridTimer::kUnarmed;
  auto& timers = bucket->second;
  timers.erase(std::find(timers.begin(), timers.end(), timer));
  if (timers.empty()) {
    eraseBucket(bucket);
    if (buckets_.empty()) {
      timer_->disarm();
    }
    // An earlier bucket gone leaves the dispatcher timer early: it then finds nothing due and
    // re-arms for the next bucket.
  }
}

void TickTimers::fireDue() {
  const Point now = loopMillis() / tick_;
  // Take every due bucket first: timers armed by the callbacks go to later turns.
  while (!buckets_.empty() && buckets_.begin()->first <= now) {
    for (GridTimer* t : buckets_.begin()->second) {
      t->point_ = GridTimer::kUnarmed;
      t->firing_ = true;
      firing_.push_back(t);
    }
    eraseBucket(buckets_.begin());
  }
  for (std::size_t i = 0; i < firing_.size(); ++i) {
    GridTimer* t = firing_[i];
    if (t == nullptr) {
      continue;  // disarmed or destroyed by an earlier callback of this turn
    }
    t->firing_ = false;
    // The callback may destroy its timer: call a copy (a small capture, no allocation).
    auto on_fire = t->on_fire_;
    on_fire();
  }
  firing_.clear();
  if (!buckets_.empty()) {
    armDispatcherTimer();
  }
}

void TickTimers::eraseBucket(std::map<Point, std::vector<GridTimer*>>::iterator bucket) {
  constexpr std::size_t kMaxSpare = 64;
  if (spare_.size() < kMaxSpare) {
    bucket->second.clear();
    spare_.push_back(std::move(bucket->second));
  }
  buckets_.erase(bucket);
}

void TickTimers::armDispatcherTimer() {
  const auto at = buckets_.begin()->first * tick_;
  timer_->arm(std::max(at - loopMillis(), std::chrono::milliseconds(0)));
}

}  // namespace bhe
