// The structural pre-check of configuration text: how deep each TOML construct nests, and that
// strings, comments and the byte-order mark cannot hide or fake a level.
#include "config/toml_limits.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace bhe {
namespace {

std::string repeat(std::string_view piece, int times, std::string_view separator = "") {
  std::string out;
  for (int i = 0; i < times; ++i) {
    out += i == 0 ? "" : separator;
    out += piece;
  }
  return out;
}

// "LINE:COL: message" of the violation, or "" when the text passes.
std::string verdict(const std::string& text) {
  auto v = checkTomlStructure(text, "t.toml");
  if (!v) {
    return "";
  }
  EXPECT_EQ(v->file, "t.toml");
  return std::to_string(v->position.line) + ":" + std::to_string(v->position.column) + ": " +
         v->message;
}

std::string tooDeep(std::string_view what) {
  return std::string(what) +
         " nested more than 32 levels deep (each table header part, dotted key part, array and "
         "inline table is a level; this exporter's configuration needs 3)";
}

std::string readSource(const std::string& relative) {
  std::ifstream in(std::string(BHE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TomlLimits, TheShippedConfigsPass) {
  for (const char* file : {"config/default.toml", "deploy/kubernetes/base/config.toml"}) {
    const std::string text = readSource(file);
    ASSERT_FALSE(text.empty()) << file;
    EXPECT_EQ(verdict(text), "") << file;
  }
}

TEST(TomlLimits, TableHeaders) {
  EXPECT_EQ(verdict("[" + repeat("a", 32, ".") + "]\n"), "");
  EXPECT_EQ(verdict("[" + repeat("a", 31, ".") + "]\nx = 1\n"), "");
  // The 33rd part starts at column 1 + 1 + 32 * 2.
  EXPECT_EQ(verdict("[" + repeat("a", 33, ".") + "]\n"), "1:66: " + tooDeep("table header"));
  EXPECT_EQ(verdict("\n[[" + repeat("a", 40, " . ") + "]]\n"), "2:131: " + tooDeep("table header"));
  EXPECT_EQ(verdict("[" + repeat("\"a.b\"", 32, ".") + "]\n"), "");  // quoted dots: one part
  EXPECT_EQ(verdict("[" + repeat("'a'", 33, ".") + "]"), "1:130: " + tooDeep("table header"));
}

TEST(TomlLimits, DottedKeysAddToTheirHeader) {
  EXPECT_EQ(verdict(repeat("a", 32, ".") + " = 1\n"), "");
  EXPECT_EQ(verdict(repeat("a", 33, ".") + " = 1\n"), "1:65: " + tooDeep("dotted key"));
  EXPECT_EQ(verdict("[" + repeat("a", 30, ".") + "]\nb.c = 1\n"), "");
  EXPECT_EQ(verdict("[" + repeat("a", 30, ".") + "]\nb.c.d = 1\n"),
            "2:5: " + tooDeep("dotted key"));
  EXPECT_EQ(verdict("[" + repeat("a", 32, ".") + "]\nb = 1\n"), "2:1: " + tooDeep("key"));
  // A new header starts from the top again.
  EXPECT_EQ(verdict("[" + repeat("a", 30, ".") + "]\n[b]\n" + repeat("c", 31, ".") + " = 1\n"), "");
}

TEST(TomlLimits, Arrays) {
  EXPECT_EQ(verdict("x = " + repeat("[", 32) + repeat("]", 32) + "\n"), "");
  EXPECT_EQ(verdict("x = " + repeat("[", 33) + repeat("]", 33) + "\n"),
            "1:37: " + tooDeep("array"));
  // Spread over lines, with comments and commas.
  EXPECT_EQ(verdict("x = [\n" + repeat("[1, # c\n", 33) + repeat("]", 33) + "]\n"),
            "33:1: " + tooDeep("array"));
  // Siblings do not add up.
  EXPECT_EQ(verdict("x = [" + repeat("[[1]]", 1000, ", ") + "]\n"), "");
}

TEST(TomlLimits, InlineTables) {
  EXPECT_EQ(verdict("x = " + repeat("{a = ", 31) + "1" + repeat("}", 31) + "\n"), "");
  EXPECT_EQ(verdict("x = " + repeat("{a = ", 32) + "1" + repeat("}", 32) + "\n"),
            "1:161: " + tooDeep("inline table"));
  EXPECT_EQ(verdict("x = {" + repeat("a", 32, ".") + " = 1}\n"), "1:68: " + tooDeep("dotted key"));
  EXPECT_EQ(verdict("x = " + repeat("[{a = ", 16) + "1" + repeat("}]", 16) + "\n"),
            "1:97: " + tooDeep("inline table"));
  EXPECT_EQ(verdict("x = {a = 1, b = [1, 2], c = {d = \"}\"}}\ny = 2\n"), "");
}

TEST(TomlLimits, StringsAndCommentsHideBrackets) {
  const std::string brackets = repeat("[{", 100);
  EXPECT_EQ(verdict("a = \"" + brackets + "\"\n"), "");
  EXPECT_EQ(verdict("a = '" + brackets + "'\n"), "");
  EXPECT_EQ(verdict("a = \"\"\"\n" + brackets + "\n\\\"\"\"" + brackets + "\"\"\"\n"), "");
  EXPECT_EQ(verdict("a = '''\n" + brackets + "\n'''\n"), "");
  EXPECT_EQ(verdict("# " + brackets + "\na = 1 # " + brackets + "\n"), "");
  EXPECT_EQ(verdict("\"" + repeat("a.", 50) + "\" = 1\n"), "");
  EXPECT_EQ(verdict("a = \"\\\\\"\n[" + repeat("b", 33, ".") + "]\n"),
            "2:66: " + tooDeep("table header"));
  // A multi-line string may end with up to two quotes of its own: the header after it counts.
  EXPECT_EQ(verdict("a = \"\"\"x\"\"\"\"\"\n[" + repeat("b", 33, ".") + "]\n"),
            "2:66: " + tooDeep("table header"));
  EXPECT_EQ(verdict("a = '''x'''''\n[" + repeat("b", 33, ".") + "]\n"),
            "2:66: " + tooDeep("table header"));
  // An empty string is not the start of a multi-line one.
  EXPECT_EQ(verdict("a = \"\"\nb = ''\n[" + repeat("b", 33, ".") + "]\n"),
            "3:66: " + tooDeep("table header"));
}

TEST(TomlLimits, ByteOrderMarkDoesNotHideTheFirstHeader) {
  EXPECT_EQ(verdict("\xEF\xBB\xBF[" + repeat("a", 33, ".") + "]\n"),
            "1:66: " + tooDeep("table header"));
}

TEST(TomlLimits, ColumnsCountCodePoints) {
  EXPECT_EQ(verdict("\"\xC3\xA9\xE2\x82\xAC\" = " + repeat("[", 33) + "\n"),
            "1:40: " + tooDeep("array"));
}

TEST(TomlLimits, ScalarsWithDotsAndSpacesAreNotKeys) {
  EXPECT_EQ(verdict("a = 1.5\nb = 1979-05-27 07:32:00.999Z\nc = [1.0, 2e3, -inf, 1.2.3]\n"
                    "d = true\n" +
                    repeat("e", 32, ".") + " = 1\n"),
            "");
}

TEST(TomlLimits, NumberOfValues) {
  const std::string too_many =
      "more than 500000 values (each key, array element and table is one; a configuration of "
      "10,000 servers has at most about 60,000)";
  // x's value and 499,999 elements; one more element is one too many.
  EXPECT_EQ(verdict("x = [" + repeat("1", 499999, ",") + "]\n"), "");
  EXPECT_EQ(verdict("x = [" + repeat("1", 500000, ",") + "]\n"), "1:1000004: " + too_many);
  EXPECT_EQ(verdict("x = [" + repeat("[]", 500000, ",") + "]\n"), "1:1500003: " + too_many);
  EXPECT_EQ(verdict(repeat("[[t]]\n", 500001)), "500001:1: " + too_many);
  EXPECT_EQ(verdict(repeat("k = 1\n", 500001)), "500001:5: " + too_many);
  // Empty arrays and trailing commas hold no value.
  EXPECT_EQ(verdict(repeat("k = [ ]\n", 499998) + "k = [1,]\n"), "");
  EXPECT_EQ(verdict(repeat("k = [ ]\n", 499998) + "k = [1,]\nk = 1\n"), "500000:5: " + too_many);
}

TEST(TomlLimits, NonAsciiOutsideStringsIsRefused) {
  // toml++ 3.3 reaches undefined behaviour deciding whether such a character is whitespace.
  const auto outside = [](std::string_view code) {
    return "character " + std::string(code) +
           " outside a string or comment (TOML allows non-ASCII characters only there)";
  };
  EXPECT_EQ(verdict("\xC3\xA9 = 1\n"), "1:1: " + outside("U+00E9"));
  EXPECT_EQ(verdict("a = 1 \xC3\xA9\n"), "1:7: " + outside("U+00E9"));
  EXPECT_EQ(verdict("[a]\xC3\xA9\n"), "1:4: " + outside("U+00E9"));
  EXPECT_EQ(verdict("a = [1,\xC3\xA9]\n"), "1:8: " + outside("U+00E9"));
  EXPECT_EQ(verdict("ab\xE2\xB2\x8F = 1\n"), "1:3: " + outside("U+2C8F"));
  EXPECT_EQ(verdict("\xEF\xBB\xB9[exporter]\n"), "1:1: " + outside("U+FEF9"));
  EXPECT_EQ(verdict("a = 1\n\xF0\x9F\x98\x80\n"), "2:1: " + outside("U+1F600"));
  EXPECT_EQ(verdict("\xFF = 1\n"),
            "1:1: byte 0xFF (not UTF-8) outside a string or comment (TOML allows non-ASCII "
            "characters only there)");
  EXPECT_EQ(verdict("a\xC3 = 1\n"),
            "1:2: byte 0xC3 (not UTF-8) outside a string or comment (TOML allows non-ASCII "
            "characters only there)");
  // toml++ reads a bare value on to a value terminator, quotes and NUL bytes included.
  EXPECT_EQ(verdict(std::string("a = 1\0\"\xC3\xA9\"\n", 10)), "1:8: " + outside("U+00E9"));
  EXPECT_EQ(verdict("a = 1\"x\xC3\xA9\"\n"), "1:8: " + outside("U+00E9"));
  EXPECT_EQ(verdict("a = 1 \"\xC3\xA9\"\n"), "");  // after the terminator: toml++ stops at '"'
  // Where TOML allows them, they pass.
  EXPECT_EQ(verdict("\xEF\xBB\xBF# \xC3\xA9\n\"\xC3\xA9\" = \"\xC3\xA9\"\nb = '\xC3\xA9'\n"
                    "c = '''\xC3\xA9'''\nd = \"\"\"\xC3\xA9\n\xC3\xA9\"\"\"\n"),
            "");
}

TEST(TomlLimits, NonAsciiAfterALineEndingBackslashIsRefused) {
  const std::string after =
      "character U+00E9 right after a backslash in a multi-line string: the TOML parser "
      "(toml++ 3.3) misreads it; begin the continued line with an ASCII character";
  EXPECT_EQ(verdict("a = \"\"\"x\\\n  \xC3\xA9\"\"\"\n"), "2:3: " + after);
  EXPECT_EQ(verdict("a = \"\"\"x\\  \n\n\t\xC3\xA9\"\"\"\n"), "3:2: " + after);
  EXPECT_EQ(verdict("a = \"\"\"\\\xC3\xA9\"\"\"\n"), "1:9: " + after);
  EXPECT_EQ(verdict("a = \"\"\"x\\\n  y\xC3\xA9\"\"\"\n"), "");
  // A line-ending backslash right before the closing quotes still ends the string there.
  EXPECT_EQ(verdict("a = \"\"\"x\\\n\"\"\"\n[" + repeat("b", 33, ".") + "]\n"),
            "3:66: " + tooDeep("table header"));
}

TEST(TomlLimits, InvalidTextIsLeftToTheParser) {
  for (const char* text : {"[a", "a = ", "= 1", "a = [1,,2", "a = {b = }", "[[a]", "a = \"x",
                           "a = '''x", "]]]]", "}}}}", "a = 1 [[[[", "\"\"\"", "a = {\n\n}"}) {
    EXPECT_EQ(verdict(text), "") << text;
  }
}

TEST(TomlLimits, TheCrashingFilesOfTheIssueAreRefused) {
  // About 80 KB each: these segfaulted inside toml++ before the check existed.
  const int levels = 40000;
  EXPECT_EQ(verdict("[" + repeat("a", levels, ".") + "]\n"), "1:66: " + tooDeep("table header"));
  EXPECT_EQ(verdict("[[" + repeat("a", levels, ".") + "]]\n"), "1:67: " + tooDeep("table header"));
  EXPECT_EQ(verdict(repeat("a", levels, ".") + " = 1\n"), "1:65: " + tooDeep("dotted key"));
  EXPECT_EQ(verdict("x = " + repeat("[", levels) + repeat("]", levels) + "\n"),
            "1:37: " + tooDeep("array"));
}

}  // namespace
}  // namespace bhe
