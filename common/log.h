// Structured logging to stderr in logfmt (default) or JSON lines, as Prometheus exporters do.
// Thread-safe: the probe loop and the web threads both log.
#pragma once

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace bhe::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kLogfmt, kJson };

std::optional<Level> parseLevel(std::string_view text);
std::optional<Format> parseFormat(std::string_view text);
void configure(Level level, Format format);
bool enabled(Level level);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename T>
  requires std::integral<T> || std::floating_point<T> Field(std::string_view k, T v)
      : key(k), value(std::to_string(v)) {}
  std::string_view key;
  std::string value;
};

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// Renders one line without writing it; exposed for tests.
std::string render(Format format, Level level, std::string_view message,
                   std::initializer_list<Field> fields);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kDebug)) {
    write(Level::kDebug, m, f);
  }
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kError, m, f);
}

}  // namespace bhe::log
