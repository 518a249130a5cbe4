#include "config/toml_limits.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/bounded_file.h"

namespace bhe {
namespace {

// Scanning is tolerant by design: it follows valid TOML exactly and, on invalid TOML, keeps going
// in some sensible state. That is safe because toml++ stops at the first syntax error, so only
// the valid prefix it parses can ever be nested, and that prefix is scanned exactly as toml++
// reads it. Stopping early on "invalid" text instead would let any disagreement with toml++
// about what is invalid hide a deep structure behind it.
class StructureScanner {
 public:
  StructureScanner(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  std::optional<ConfigError> run() {
    constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
    if (text_.starts_with(kByteOrderMark)) {
      pos_ = kByteOrderMark.size();  // toml++ skips it; a header right after it still counts
    }
    contexts_.push_back({Kind::kDocument, 0, Expect::kKey, 0});
    while (!violation_ && !atEnd()) {
      step();
    }
    return violation_;
  }

 private:
  enum class Kind { kDocument, kArray, kInlineTable };
  enum class Expect { kKey, kValue, kAfterValue };
  struct Context {
    Kind kind;
    int level;  // of the table (document: the current [header]) or array itself
    Expect expect;
    int value_level;  // of the value after `key =`
  };

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool lookingAt(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  void advance() {
    if (atEnd()) {
      return;  // lets every caller step over "one more" character without checking
    }
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column_;  // toml++ counts columns in code points, not bytes
    }
  }
  void advance(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      advance();
    }
  }

  static bool isAscii(char c) { return (static_cast<unsigned char>(c) & 0x80) == 0; }
  static bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
  // Non-ASCII characters end words too, so that step() sees and refuses them.
  static bool endsBareWord(char c) {
    return isBlank(c) || c == '\n' || c == '.' || c == '=' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == ',' || c == '#' || c == '"' || c == '\'' || !isAscii(c);
  }
  // toml++'s value terminators (is_value_terminator): to tell a number from a date, toml++ reads a
  // bare value up to one of them, through quotes and NUL bytes alike, asking of each character
  // whether it is whitespace, so the scan must see each character toml++ sees.
  static bool endsScalar(char c) {
    return isBlank(c) || c == '\n' || c == '\v' || c == '\f' || c == ',' || c == ']' || c == '}' ||
           c == '#' || !isAscii(c);
  }

  void skipBlanks() {
    while (!atEnd() && isBlank(peek())) {
      advance();
    }
  }
  void skipComment() {
    while (!atEnd() && peek() != '\n') {
      advance();
    }
  }

  // At a quote: skips the whole string, of any of TOML's four kinds. An unterminated single-line
  // string ends at the line's end, a multi-line one at the end of the text.
  void skipString() {
    const char quote = peek();
    const bool basic = quote == '"';
    const std::string_view triple = basic ? "\"\"\"" : "'''";
    if (lookingAt(triple)) {
      advance(3);
      while (!atEnd()) {
        if (basic && peek() == '\\') {
          advance();
          if (isBlank(peek()) || peek() == '\n') {
            // A line-ending backslash trims the blanks and line breaks after it; toml++ asks of
            // each, and of the first character after them, whether it is whitespace.
            while (!atEnd() && (isBlank(peek()) || peek() == '\n')) {
              advance();
            }
            if (!isAscii(peek())) {
              refuseNonAsciiAfterBackslash();
              return;
            }
            continue;  // content again, or the closing quotes
          }
          if (!isAscii(peek())) {
            refuseNonAsciiAfterBackslash();  // and of an escaped character
            return;
          }
          advance();
        } else if (lookingAt(triple)) {
          advance(3);
          // `""""` and `"""""` end the string with one or two quotes of content.
          for (int extra = 0; extra < 2 && peek() == quote; ++extra) {
            advance();
          }
          return;
        } else {
          advance();
        }
      }
      return;
    }
    advance();
    while (!atEnd() && peek() != '\n') {
      const char c = peek();
      if (basic && c == '\\') {
        advance();
        if (!atEnd() && peek() != '\n') {
          advance();
        }
      } else if (c == quote) {
        advance();
        return;
      } else {
        advance();
      }
    }
  }

  // The first problem wins (a string's check may come before its key's depth is judged).
  void report(int line, int column, std::string message) {
    if (!violation_) {
      violation_ = ConfigError{file_, {line, column}, std::move(message)};
    }
  }

  void exceed(int line, int column, std::string_view what) {
    report(line, column,
           std::string(what) + " nested more than " + std::to_string(kMaxTomlNestingDepth) +
               " levels deep (each table header part, dotted key part, array and inline table is "
               "a level; this exporter's configuration needs 3)");
  }

  // "character U+00E9" for the UTF-8 sequence at the current position, or "byte 0xFF (not
  // UTF-8)".
  std::string codePointHere() const {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(peek(i)); };
    const unsigned char lead = byte(0);
    const int extra = lead >= 0xF8 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    bool utf8 = extra > 0;
    std::uint32_t code = lead & (0x3F >> extra);
    for (int i = 1; utf8 && i <= extra; ++i) {
      utf8 = (byte(i) & 0xC0) == 0x80;
      code = (code << 6) | (byte(i) & 0x3F);
    }
    char text[32];
    if (utf8) {
      std::snprintf(text, sizeof(text), "character U+%04X", static_cast<unsigned>(code));
    } else {
      std::snprintf(text, sizeof(text), "byte 0x%02X (not UTF-8)", static_cast<unsigned>(lead));
    }
    return text;
  }

  // toml++ 3.3 asks "is this whitespace?" of characters outside strings, and it reaches
  // undefined behaviour (an "unreachable" branch) for most non-ASCII code points there, so they
  // are refused before it sees them. Outside strings and comments TOML allows none anyway.
  void refuseNonAsciiOutsideStrings() {
    report(line_, column_,
           codePointHere() +
               " outside a string or comment (TOML allows non-ASCII characters only there)");
  }
  void refuseNonAsciiAfterBackslash() {
    report(line_, column_,
           codePointHere() +
               " right after a backslash in a multi-line string: the TOML parser (toml++ 3.3) "
               "misreads it; begin the continued line with an ASCII character");
  }

  // Counts one value starting at the current position; false once there are too many.
  bool countValue() {
    if (++values_ <= kMaxTomlValues) {
      return true;
    }
    report(line_, column_,
           "more than " + std::to_string(kMaxTomlValues) +
               " values (each key, array element and table is one; a configuration of 10,000 "
               "servers has at most about 60,000)");
    return false;
  }

  // Reads `a."b".'c'` (blanks around the dots allowed), counting one level per part on top of
  // `level`; returns the level of the last part. The names say what a too deep part is.
  int key(int level, std::string_view first_part, std::string_view later_part) {
    for (bool first = true;; first = false) {
      skipBlanks();
      const int line = line_;
      const int column = column_;
      if (peek() == '"' || peek() == '\'') {
        skipString();
      } else {
        const std::size_t start = pos_;
        while (!atEnd() && !endsBareWord(peek())) {
          advance();
        }
        if (pos_ == start) {
          return level;
        }
      }
      if (++level > kMaxTomlNestingDepth) {
        exceed(line, column, first ? first_part : later_part);
        return level;
      }
      skipBlanks();
      if (peek() != '.') {
        return level;
      }
      advance();
    }
  }

  void step() {
    const char c = peek();
    if (!isAscii(c)) {
      refuseNonAsciiOutsideStrings();
      return;
    }
    if (isBlank(c)) {
      advance();
      return;
    }
    if (c == '#') {
      skipComment();
      return;
    }
    Context& context = contexts_.back();
    if (c == '\n') {
      advance();
      if (context.kind == Kind::kDocument) {
        context.expect = Expect::kKey;
      }
      return;
    }
    switch (context.expect) {
      case Expect::kKey:
        return keyPosition(context);
      case Expect::kValue:
        return valuePosition(context);
      case Expect::kAfterValue:
        return afterValue(context);
    }
  }

  void keyPosition(Context& context) {
    const char c = peek();
    if (context.kind == Kind::kDocument && c == '[') {
      header(context);
      return;
    }
    if (context.kind == Kind::kInlineTable && (c == '}' || c == ',')) {
      if (c == '}') {
        contexts_.pop_back();
      }
      advance();
      return;
    }
    const int level = key(
        context.level, context.kind == Kind::kInlineTable ? "inline table" : "key", "dotted key");
    if (violation_) {
      return;
    }
    skipBlanks();
    if (peek() == '=') {
      advance();
      context.expect = Expect::kValue;
      context.value_level = level;
    } else {
      context.expect = Expect::kAfterValue;
    }
  }

  // `[a.b.c]` or `[[a.b.c]]`: the header's parts are the level of the keys below it.
  void header(Context& document) {
    if (!countValue()) {
      return;
    }
    advance();
    if (peek() == '[') {
      advance();
    }
    const int level = key(0, "table header", "table header");
    document.level = level;
    document.expect = Expect::kAfterValue;  // the closing brackets, a comment, the line's end
  }

  void valuePosition(Context& context) {
    const char c = peek();
    const int level = context.kind == Kind::kArray ? context.level + 1 : context.value_level;
    if (c == ']' && context.kind == Kind::kArray) {  // empty array, or a trailing comma
      advance();
      contexts_.pop_back();
      return;
    }
    if (!countValue()) {
      return;
    }
    if (c == '"' || c == '\'') {
      skipString();
      context.expect = Expect::kAfterValue;
      return;
    }
    if (c == '[' || c == '{') {
      if (level > kMaxTomlNestingDepth) {
        exceed(line_, column_, c == '[' ? "array" : "inline table");
        return;
      }
      advance();
      context.expect = Expect::kAfterValue;
      if (c == '[') {
        contexts_.push_back({Kind::kArray, level, Expect::kValue, 0});
      } else {
        contexts_.push_back({Kind::kInlineTable, level, Expect::kKey, 0});
      }
      return;
    }
    // A number, boolean or date-time (possibly with a space inside; the rest is skipped below).
    while (!atEnd() && !endsScalar(peek())) {
      advance();
    }
    context.expect = Expect::kAfterValue;
  }

  void afterValue(Context& context) {
    const char c = peek();
    if (c == ',' && context.kind != Kind::kDocument) {
      advance();
      context.expect = context.kind == Kind::kArray ? Expect::kValue : Expect::kKey;
      return;
    }
    if ((c == ']' && context.kind == Kind::kArray) ||
        (c == '}' && context.kind == Kind::kInlineTable)) {
      advance();
      contexts_.pop_back();
      return;
    }
    if (c == '"' || c == '\'') {
      skipString();  // not valid here, but a quote must not start a comment or header scan
      return;
    }
    advance();
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  std::vector<Context> contexts_;
  std::size_t values_ = 0;
  std::optional<ConfigError> violation_;
};

}  // namespace

std::optional<ConfigError> checkTomlStructure(std::string_view text, const std::string& file) {
  return StructureScanner(text, file).run();
}

TomlDocument parseTomlText(std::string_view text, const std::string& file) {
  if (auto too_deep = checkTomlStructure(text, file)) {
    return {std::nullopt, std::move(too_deep)};
  }
  try {
    return {toml::parse(text, std::string_view(file)), std::nullopt};
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return {std::nullopt, ConfigError{file,
                                      {static_cast<int>(at.line), static_cast<int>(at.column)},
                                      std::string(e.description())}};
  }
}

TomlDocument readTomlFile(const std::string& path, std::string_view what) {
  BoundedFile file = readBoundedFile(path, {kMaxConfigFileBytes, "a config file"});
  if (!file.ok()) {
    return {std::nullopt,
            ConfigError{path, {0, 0}, "cannot read the " + std::string(what) + ": " + file.error}};
  }
  return parseTomlText(file.content, path);
}

}  // namespace bhe
