// Quantiles of a stream of durations over a sliding window, for a Prometheus summary: what
// prometheus-cpp's Summary computes, at a small fraction of its cost per value. Its Summary
// inserts every value into one CKMS stream per age bucket (five, for a minute in 12 s steps):
// about 2% of the exporter's CPU per HTTP probe, the largest single item of its own code, for a
// figure observed once per probe.
//
// Here a value increments one counter: that of the logarithmic bucket it falls in (DDSketch's
// mapping: every value in a bucket is within 1% of the bucket's representative value), in the
// slot of the current step. A quantile sums the slots still in the window, which, as with
// prometheus-cpp's age buckets, covers between max_age - step and max_age (48-60 s for a minute
// in five steps). Values below a microsecond count as 0. The count and sum are of every value
// ever observed, as a summary's _count and _sum are.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

namespace bhe {

class WindowedQuantiles {
 public:
  using Clock = std::chrono::steady_clock;

  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr double kSmallest = 1e-6;  // seconds; smaller values count as 0

  WindowedQuantiles(std::chrono::seconds max_age, int steps);

  void observe(double seconds, Clock::time_point now = Clock::now());  // any thread
  // The q-quantile (0 <= q <= 1) of the values in the window; NaN when it holds none.
  double quantile(double q, Clock::time_point now = Clock::now()) const;
  std::uint64_t count() const;
  double sum() const;

 private:
  struct Slot {
    // Which step of time its counts are from (time since the clock's epoch / step).
    std::int64_t step = std::numeric_limits<std::int64_t>::min();
    std::vector<std::uint32_t> counts;
  };

  std::int64_t stepAt(Clock::time_point now) const;
  static std::size_t bucketOf(double seconds);
  static double valueOf(std::size_t bucket);

  const Clock::duration step_;
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // a ring: step s is in slots_[s % size]
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace bhe
