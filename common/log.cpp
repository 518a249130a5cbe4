#include "common/log.h"

#include "common/time_format.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace bhe::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kLogfmt};
std::mutex g_write_mutex;

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  return formatUtcMillis(unixMillisNow());
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// logfmt quotes a value when it is empty or holds a space, '=', '"' or a control character.
void appendLogfmtValue(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\') {
      quote = true;
      break;
    }
  }
  if (quote) {
    appendJsonString(out, s);
  } else {
    out += s;
  }
}

}  // namespace

std::optional<Level> parseLevel(std::string_view text) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (levelName(l) == text) {
      return l;
    }
  }
  return std::nullopt;
}

std::optional<Format> parseFormat(std::string_view text) {
  if (text == "logfmt") {
    return Format::kLogfmt;
  }
  if (text == "json") {
    return Format::kJson;
  }
  return std::nullopt;
}

void configure(Level level, Format format) {
  g_level = level;
  g_format = format;
}

bool enabled(Level level) {
  return level >= g_level.load();
}

std::string render(Format format, Level level, std::string_view message,
                   std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  if (format == Format::kJson) {
    line += "{\"ts\":";
    appendJsonString(line, timestamp());
    line += ",\"level\":";
    appendJsonString(line, levelName(level));
    line += ",\"msg\":";
    appendJsonString(line, message);
    for (const auto& f : fields) {
      line += ',';
      appendJsonString(line, f.key);
      line += ':';
      appendJsonString(line, f.value);
    }
    line += '}';
  } else {
    line += "ts=";
    line += timestamp();
    line += " level=";
    line += levelName(level);
    line += " msg=";
    appendLogfmtValue(line, message);
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      appendLogfmtValue(line, f.value);
    }
  }
  line += '\n';
  return line;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) {
    return;
  }
  std::string line = render(g_format.load(), level, message, fields);
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace bhe::log
