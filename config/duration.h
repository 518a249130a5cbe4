#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bhe {

// Parses Prometheus-style durations: one or more <integer><unit> groups, units ms, s, m, h,
// e.g. "500ms", "5s", "1m30s". Returns the error text on failure.
struct DurationParse {
  std::optional<std::chrono::milliseconds> value;
  std::string error;
};
DurationParse parseDuration(std::string_view text);

// "1m30s", "500ms", "0s": the inverse of parseDuration, for messages and the status page.
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace bhe
