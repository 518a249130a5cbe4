// The schedule-lag summary's quantiles: within 1% of the exact ones, over the last minute only
// (in 12 s steps), with the count and sum of every value.
#include "exporter/windowed_quantiles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

#include "exporter/metrics.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;
using Clock = WindowedQuantiles::Clock;

// A fixed point of the clock, so that steps are counted from a known place (step 0 is 0-12 s).
Clock::time_point at(std::chrono::milliseconds since_epoch) {
  return Clock::time_point(since_epoch);
}

TEST(WindowedQuantiles, NoValuesGiveNaNAndZeroCounts) {
  WindowedQuantiles lag(60s, 5);
  EXPECT_TRUE(std::isnan(lag.quantile(0.5, at(1s))));
  EXPECT_EQ(lag.count(), 0u);
  EXPECT_EQ(lag.sum(), 0);
}

TEST(WindowedQuantiles, QuantilesAreWithinOnePercentOfTheExactOnes) {
  std::mt19937 random(20261203);
  // Log-uniform from 1 us to 10 s: every bucket scale is exercised.
  std::uniform_real_distribution<double> exponent(-6, 1);
  WindowedQuantiles lag(60s, 5);
  std::vector<double> values;
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const double v = std::pow(10, exponent(random));
    values.push_back(v);
    sum += v;
    lag.observe(v, at(1s));
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * 20000)));
    const double exact = values[rank - 1];
    EXPECT_NEAR(lag.quantile(q, at(2s)), exact, exact * 0.0101) << "q=" << q;
  }
  EXPECT_EQ(lag.count(), 20000u);
  EXPECT_DOUBLE_EQ(lag.sum(), sum);
}

TEST(WindowedQuantiles, ValuesBelowAMicrosecondCountAsZero) {
  WindowedQuantiles lag(60s, 5);
  lag.observe(0, at(1s));
  lag.observe(1e-9, at(1s));
  lag.observe(-0.5, at(1s));  // a clock step backwards
  lag.observe(0.004, at(1s));
  EXPECT_EQ(lag.quantile(0.5, at(1s)), 0);
  EXPECT_NEAR(lag.quantile(1.0, at(1s)), 0.004, 0.004 * 0.0101);
  EXPECT_EQ(lag.count(), 4u);
}

TEST(WindowedQuantiles, HugeValuesShareTheLastBucketAndNaNIsIgnored) {
  WindowedQuantiles lag(60s, 5);
  lag.observe(1e12, at(1s));
  lag.observe(std::numeric_limits<double>::infinity(), at(1s));
  lag.observe(std::numeric_limits<double>::quiet_NaN(), at(1s));
  const double top = lag.quantile(1.0, at(1s));
  EXPECT_TRUE(std::isfinite(top));
  EXPECT_GT(top, 86400);  // past a day
  EXPECT_EQ(lag.count(), 2u);
}

TEST(WindowedQuantiles, TheWindowIsTheLastMinuteInTwelveSecondSteps) {
  WindowedQuantiles lag(60s, 5);
  lag.observe(2.0, at(1s));  // step 0 (0-12 s)
  // Until its step leaves the window (60 s), the old value is counted...
  EXPECT_NEAR(lag.quantile(1.0, at(59s)), 2.0, 0.0202);
  lag.observe(0.003, at(50s));  // step 4
  EXPECT_NEAR(lag.quantile(1.0, at(59s)), 2.0, 0.0202);
  // ...then only the newer one is.
  EXPECT_NEAR(lag.quantile(1.0, at(60s)), 0.003, 0.003 * 0.0101);
  EXPECT_NEAR(lag.quantile(0.0, at(60s)), 0.003, 0.003 * 0.0101);
  // The newer one leaves in turn, and the window is empty again.
  EXPECT_TRUE(std::isnan(lag.quantile(0.5, at(108s))));
  // _count and _sum keep every value.
  EXPECT_EQ(lag.count(), 2u);
  EXPECT_DOUBLE_EQ(lag.sum(), 2.003);
}

TEST(WindowedQuantiles, AReusedSlotForgetsWhatItHeld) {
  WindowedQuantiles lag(60s, 5);
  lag.observe(5.0, at(1s));     // step 0, slot 0
  lag.observe(0.001, at(61s));  // step 5, slot 0 again
  EXPECT_NEAR(lag.quantile(1.0, at(61s)), 0.001, 0.001 * 0.0101);
}

TEST(WindowedQuantiles, RendersAsASummary) {
  WindowedQuantiles lag(60s, 5);
  std::string empty;
  writeScheduleLag(lag, empty);
  EXPECT_NE(empty.find("# TYPE backend_health_exporter_schedule_lag_seconds summary\n"),
            std::string::npos);
  EXPECT_NE(empty.find("backend_health_exporter_schedule_lag_seconds{quantile=\"0.99\"} NaN\n"
                       "backend_health_exporter_schedule_lag_seconds_sum 0\n"
                       "backend_health_exporter_schedule_lag_seconds_count 0\n"),
            std::string::npos)
      << empty;
  lag.observe(0.25);
  lag.observe(0.25);
  std::string text;
  writeScheduleLag(lag, text);
  const std::string p50 = "backend_health_exporter_schedule_lag_seconds{quantile=\"0.5\"} ";
  const auto line = text.find(p50);
  ASSERT_NE(line, std::string::npos) << text;
  EXPECT_NEAR(std::strtod(text.c_str() + line + p50.size(), nullptr), 0.25, 0.25 * 0.0101);
  EXPECT_NE(text.find("backend_health_exporter_schedule_lag_seconds_sum 0.5\n"
                      "backend_health_exporter_schedule_lag_seconds_count 2\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace bhe
