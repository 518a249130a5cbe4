// Wall-clock time as the exporter prints it: ISO 8601 in UTC, everywhere (logs, JSON, details).
#pragma once

#include <cstdint>
#include <string>

namespace bhe {

std::int64_t unixMillisNow();

// "2021-01-01T00:00:00Z"; any year, also before 1970 (certificate dates).
std::string formatUtc(std::int64_t unix_seconds);

// "2021-01-01T00:00:00.123Z".
std::string formatUtcMillis(std::int64_t unix_millis);

}  // namespace bhe
