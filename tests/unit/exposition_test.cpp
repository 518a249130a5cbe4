#include "exporter/exposition.h"

#include <gtest/gtest.h>

#include <limits>

namespace bhe {
namespace {

TEST(Exposition, FamiliesSeriesEscapingAndValues) {
  std::string text;
  Exposition out(text);
  out.family("m", "Help with a \\ backslash\nand a newline.", "gauge");
  const RenderedLabels common = escapedLabels({{"pool", "a\"b\\c\nd"}, {"server", "10.0.0.5"}});
  out.series(common, {}, 1);
  out.series(common, {{"phase", "dns"}}, 0.004223);
  out.series({}, {}, 1796169600);
  out.series({}, {{"x", "y"}}, std::numeric_limits<double>::quiet_NaN());
  out.series({}, {}, -std::numeric_limits<double>::infinity());
  out.series({}, {}, 0.1);
  out.series({}, {}, 876537340 / 1e9);  // a duration from nanoseconds: no ...0000001 tail
  out.series({}, {}, 1.5e-7);
  EXPECT_EQ(text,
            "# HELP m Help with a \\\\ backslash\\nand a newline.\n"
            "# TYPE m gauge\n"
            "m{pool=\"a\\\"b\\\\c\\nd\",server=\"10.0.0.5\"} 1\n"
            "m{pool=\"a\\\"b\\\\c\\nd\",server=\"10.0.0.5\",phase=\"dns\"} 0.004223\n"
            "m 1796169600\n"
            "m{x=\"y\"} NaN\n"
            "m -Inf\n"
            "m 0.1\n"
            "m 0.87653734\n"
            "m 1.5e-07\n");
}

}  // namespace
}  // namespace bhe
