#include "config/duration.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parseDuration("500ms").value, milliseconds(500));
  EXPECT_EQ(parseDuration("5s").value, milliseconds(5000));
  EXPECT_EQ(parseDuration("1m").value, milliseconds(60000));
  EXPECT_EQ(parseDuration("2h").value, milliseconds(7200000));
  EXPECT_EQ(parseDuration("1m30s").value, milliseconds(90000));
  EXPECT_EQ(parseDuration("1s500ms").value, milliseconds(1500));
}

TEST(Duration, RejectsMalformedText) {
  for (const char* bad : {"", "5", "s", "5x", "5 s", "-5s", "1.5s", "5S", "ms5"}) {
    auto r = parseDuration(bad);
    EXPECT_FALSE(r.value) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
  EXPECT_NE(parseDuration("5x").error.find("unknown unit \"x\""), std::string::npos);
  EXPECT_NE(parseDuration("99999999999h").error.find("too long"), std::string::npos);
}

TEST(Duration, FormatsBack) {
  EXPECT_EQ(formatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(formatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(3601001)), "1h1s1ms");
}

}  // namespace
}  // namespace bhe
