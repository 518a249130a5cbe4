#include "common/time_format.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

TEST(TimeFormat, MillisecondsKeepThreeDigitsAndHandleNegatives) {
  EXPECT_EQ(formatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatUtcMillis(1609459200123), "2021-01-01T00:00:00.123Z");
  EXPECT_EQ(formatUtcMillis(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormat, NowIsAfterThisCodeWasWritten) {
  EXPECT_GT(unixMillisNow(), 1795000000000);  // 2026-11
}

}  // namespace
}  // namespace bhe
