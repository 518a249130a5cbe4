#include "config/duration.h"

#include <cstdint>
#include <limits>

namespace bhe {

DurationParse parseDuration(std::string_view text) {
  if (text.empty()) {
    return {std::nullopt, "empty duration"};
  }
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  constexpr std::int64_t kMaxMs = std::int64_t{24} * 3600 * 1000 * 365;  // one year is plenty
  while (i < text.size()) {
    std::size_t digits_start = i;
    std::int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxMs) {
        return {std::nullopt, "duration \"" + std::string(text) + "\" is too long"};
      }
      ++i;
    }
    if (i == digits_start) {
      return {std::nullopt, "bad duration \"" + std::string(text) +
                                "\": expected a number followed by ms, s, m or h (e.g. \"5s\")"};
    }
    std::size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) {
      ++i;
    }
    std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else {
      return {std::nullopt, "bad duration \"" + std::string(text) + "\": unknown unit \"" +
                                std::string(unit) + "\" (use ms, s, m or h)"};
    }
    total_ms += number * scale;
    if (total_ms > kMaxMs) {
      return {std::nullopt, "duration \"" + std::string(text) + "\" is too long"};
    }
  }
  return {std::chrono::milliseconds(total_ms), ""};
}

std::string formatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string out;
  auto take = [&](std::int64_t unit_ms, const char* suffix) {
    if (ms >= unit_ms) {
      out += std::to_string(ms / unit_ms) + suffix;
      ms %= unit_ms;
    }
  };
  take(3600 * 1000, "h");
  take(60 * 1000, "m");
  take(1000, "s");
  take(1, "ms");
  return out;
}

}  // namespace bhe
