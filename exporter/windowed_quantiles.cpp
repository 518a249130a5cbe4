#include "exporter/windowed_quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bhe {
namespace {

// Bucket i >= 1 holds (kSmallest * gamma^(i-1), kSmallest * gamma^i]; bucket 0 holds 0 and
// everything up to kSmallest. 1,300 buckets reach past a day; longer values share the last.
const double kGamma =
    (1 + WindowedQuantiles::kRelativeAccuracy) / (1 - WindowedQuantiles::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
constexpr std::size_t kBuckets = 1300;

}  // namespace

WindowedQuantiles::WindowedQuantiles(std::chrono::seconds max_age, int steps)
    : step_(std::chrono::duration_cast<Clock::duration>(max_age) / std::max(steps, 1)),
      slots_(static_cast<std::size_t>(std::max(steps, 1))) {
  for (auto& slot : slots_) {
    slot.counts.assign(kBuckets, 0);
  }
}

std::int64_t WindowedQuantiles::stepAt(Clock::time_point now) const {
  return now.time_since_epoch() / step_;
}

std::size_t WindowedQuantiles::bucketOf(double seconds) {
  if (seconds <= kSmallest) {
    return 0;
  }
  const double i = std::ceil(std::log(seconds / kSmallest) / kLogGamma);
  return static_cast<std::size_t>(std::clamp(i, 1.0, static_cast<double>(kBuckets - 1)));
}

double WindowedQuantiles::valueOf(std::size_t bucket) {
  if (bucket == 0) {
    return 0;
  }
  // The point of the bucket with the same relative distance to both of its ends.
  return kSmallest * 2 * std::pow(kGamma, static_cast<double>(bucket)) / (kGamma + 1);
}

void WindowedQuantiles::observe(double seconds, Clock::time_point now) {
  if (std::isnan(seconds)) {
    return;
  }
  const std::size_t bucket = bucketOf(seconds);
  const std::int64_t step = stepAt(now);
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[static_cast<std::size_t>(step) % slots_.size()];
  if (slot.step != step) {
    std::fill(slot.counts.begin(), slot.counts.end(), 0);
    slot.step = step;
  }
  ++slot.counts[bucket];
  ++count_;
  sum_ += seconds;
}

double WindowedQuantiles::quantile(double q, Clock::time_point now) const {
  const std::int64_t step = stepAt(now);
  const auto steps = static_cast<std::int64_t>(slots_.size());
  std::lock_guard lock(mutex_);
  std::vector<const Slot*> live;
  for (const auto& slot : slots_) {
    if (slot.step > step - steps && slot.step <= step) {
      live.push_back(&slot);
    }
  }
  auto countAt = [&](std::size_t bucket) {
    std::uint64_t n = 0;
    for (const Slot* slot : live) {
      n += slot->counts[bucket];
    }
    return n;
  };
  std::uint64_t total = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    total += countAt(b);
  }
  if (total == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // The value of rank ceil(q * total), counting from 1.
  const auto rank = std::max<std::uint64_t>(
      1,
      static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += countAt(b);
    if (seen >= rank) {
      return valueOf(b);
    }
  }
  return valueOf(kBuckets - 1);
}

std::uint64_t WindowedQuantiles::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

double WindowedQuantiles::sum() const {
  std::lock_guard lock(mutex_);
  return sum_;
}

}  // namespace bhe
