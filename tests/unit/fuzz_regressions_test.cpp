// What the fuzzers found, replayed from the inputs they wrote (fuzz/regressions/FUZZER/), through
// the code that misbehaved. Leaks show only in the asan preset, whose LeakSanitizer fails these.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "config/config.h"
#include "config/toml_limits.h"
#include "pki/x509.h"
#include "probe/http/http_exchange.h"

namespace bhe {
namespace {

std::string regression(const std::string& fuzzer, const std::string& name) {
  const std::string path = std::string(BHE_SOURCE_DIR) + "/fuzz/regressions/" + fuzzer + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// chain_fuzzer: a subject made only of attributes wolfSSL does not canonicalize (2.5.4.2 and an
// unknown 2.5.47.3) made wolfSSL_i2d_X509_NAME_canon return no name but a buffer, which leaked
// once per parse of such a certificate.
TEST(FuzzRegressions, NameWithoutCanonicalFormDoesNotLeak) {
  const std::string input = regression("chain_fuzzer", "leak-name-not-canonicalized");
  const std::size_t size =
      derSequenceSize(std::span(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()));
  ASSERT_EQ(size, 533u);
  auto cert =
      Certificate::parse(std::span(reinterpret_cast<const std::uint8_t*>(input.data()), size));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->subjectKey().rfind("printed:", 0), 0u) << "the canonical form was not empty";
}

// chain_fuzzer: a countryName that is not two characters ("BHE Test Root CA" here) made
// wolfSSL_i2d_X509_NAME_canon leak its UTF-8 copy of the value on every parse.
TEST(FuzzRegressions, CountryNameOfTheWrongLengthDoesNotLeak) {
  const std::string input = regression("chain_fuzzer", "leak-country-name-not-two-characters");
  std::span bytes(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  const std::size_t first = derSequenceSize(bytes);
  ASSERT_EQ(first, 497u);
  const auto second = bytes.subspan(first);
  auto cert = Certificate::parse(second.first(derSequenceSize(second)));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->issuer(), "C=BHE Test Root CA,O=BHE Test");
  EXPECT_EQ(cert->issuerKey().rfind("printed:", 0), 0u);
}

// config_fuzzer: U+FEF9 where toml++ looks for whitespace reached an "unreachable" branch in
// toml++ 3.3 (undefined behaviour); the pre-check now refuses it with its position.
TEST(FuzzRegressions, NonAsciiWhereTomlExpectsWhitespaceIsAConfigError) {
  const std::string input =
      regression("config_fuzzer", "toml-unreachable-on-non-ascii-whitespace-check");
  ConfigLoad load = parseConfig(input, "t.toml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].str(),
            "t.toml:1:1: character U+FEF9 outside a string or comment (TOML allows non-ASCII "
            "characters only there)");
}

// config_fuzzer: to classify a bare value, toml++ reads on to the next value terminator, through
// NUL bytes and quotes ("1+\0\0\0m\"e{ey2" then U+FEFD), and asks of each character whether it
// is whitespace; the pre-check had stopped at the NUL and taken the quote for a string.
TEST(FuzzRegressions, NonAsciiInsideABareValueIsRefused) {
  const std::string input =
      regression("config_fuzzer", "toml-reads-a-bare-value-through-nul-and-quotes");
  ConfigLoad load = parseConfig(input, "t.toml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].str(),
            "t.toml:2:15: character U+FEFD outside a string or comment (TOML allows non-ASCII "
            "characters only there)");
}

// config_fuzzer: a text ending in a backslash inside a multi-line string made the pre-check read
// one byte past the end (found by AddressSanitizer; the input is copied to a buffer of exactly
// its size so that the asan preset sees it again should it come back).
TEST(FuzzRegressions, BackslashAtTheEndOfTheTextIsNotReadPast) {
  const std::string input = regression("config_fuzzer", "scanner-overread-backslash-at-end");
  ASSERT_EQ(input.back(), '\\');
  auto exact = std::make_unique<char[]>(input.size());
  std::memcpy(exact.get(), input.data(), input.size());
  EXPECT_FALSE(checkTomlStructure(std::string_view(exact.get(), input.size()), "t.toml"));
  for (std::string_view tail : {"a = \"\"\"\\", "a = \"\"\"x\\ \n", "a = \"\\", "a = '''"}) {
    auto copy = std::make_unique<char[]>(tail.size());
    std::memcpy(copy.get(), tail.data(), tail.size());
    EXPECT_FALSE(checkTomlStructure(std::string_view(copy.get(), tail.size()), "t.toml")) << tail;
  }
}

// http_response_fuzzer: once the kept body was complete (here: none kept, max 0 bytes), a
// malformed chunk trailer further on made the response invalid when it arrived in the same read
// and complete when it arrived later. Bytes past the kept body are no longer parsed.
TEST(FuzzRegressions, BytesPastTheKeptBodyAreNotJudged) {
  const std::string input =
      regression("http_response_fuzzer", "bytes-past-the-kept-body-judged-when-in-the-same-read");
  const std::string response = input.substr(0, input.size() - 11);  // the fuzzer's parameters
  for (std::size_t kept : {std::size_t{0}, std::size_t{4}}) {
    for (std::size_t read_size : {response.size(), std::size_t{1}, std::size_t{20}}) {
      HttpResponseParser parser(kept);
      std::string_view rest = response;
      auto progress = HttpResponseParser::Progress::kNeedMore;
      while (!rest.empty() && progress == HttpResponseParser::Progress::kNeedMore) {
        progress = parser.feed(rest.substr(0, read_size));
        rest.remove_prefix(std::min(read_size, rest.size()));
      }
      EXPECT_EQ(progress, HttpResponseParser::Progress::kComplete) << kept << " " << read_size;
      EXPECT_EQ(parser.error(), "") << kept << " " << read_size;
      EXPECT_EQ(parser.status(), 503);
      EXPECT_EQ(parser.body(), std::string("Wiki").substr(0, kept));
    }
  }
}

// http_response_fuzzer: a read-until-close body longer than the kept part. How many body bytes
// go by before reading stops depends on the reads; the verdict and the kept body do not.
TEST(FuzzRegressions, KeptBodyOfAReadUntilCloseResponseDoesNotDependOnTheReads) {
  const std::string input =
      regression("http_response_fuzzer", "read-until-close-body-seen-depends-on-reads");
  const std::string response = input.substr(0, input.size() - 11);  // the fuzzer's parameters
  std::string kept;
  for (std::size_t read_size : {response.size(), std::size_t{1}, std::size_t{7}, std::size_t{48}}) {
    HttpResponseParser parser(33);
    std::string_view rest = response;
    auto progress = HttpResponseParser::Progress::kNeedMore;
    while (!rest.empty() && progress == HttpResponseParser::Progress::kNeedMore) {
      progress = parser.feed(rest.substr(0, read_size));
      rest.remove_prefix(std::min(read_size, rest.size()));
    }
    EXPECT_EQ(progress, HttpResponseParser::Progress::kComplete) << read_size;
    EXPECT_EQ(parser.status(), 503);
    EXPECT_EQ(parser.body().size(), 33u);
    EXPECT_GE(parser.bodyBytesSeen(), 33u);
    if (kept.empty()) {
      kept = parser.body();
    }
    EXPECT_EQ(parser.body(), kept) << read_size;
  }
}

// http_response_fuzzer: a header name with a space. Cut into small reads, http-parser hands over
// the start of the name before it sees the space; in one read it does not. Either way the
// response is invalid for the same reason: how the bytes arrive must not change the verdict.
TEST(FuzzRegressions, InvalidHeaderTokenIsInvalidHoweverTheBytesArrive) {
  const std::string input =
      regression("http_response_fuzzer", "invalid-header-token-cut-by-a-read");
  const std::string response = input.substr(0, input.size() - 11);  // the fuzzer's parameters
  ASSERT_EQ(response, "HTTP/1.0 200 OK\r\nServy body unti=l close");
  for (std::size_t read_size : {response.size(), std::size_t{1}, std::size_t{5}, std::size_t{20}}) {
    HttpResponseParser parser(300);
    std::string_view rest = response;
    auto progress = HttpResponseParser::Progress::kNeedMore;
    while (!rest.empty() && progress == HttpResponseParser::Progress::kNeedMore) {
      progress = parser.feed(rest.substr(0, read_size));
      rest.remove_prefix(std::min(read_size, rest.size()));
    }
    EXPECT_EQ(progress, HttpResponseParser::Progress::kInvalid) << read_size;
    EXPECT_EQ(parser.error(), "HPE_INVALID_HEADER_TOKEN: invalid character in header") << read_size;
    EXPECT_FALSE(parser.headersComplete());
  }
}

}  // namespace
}  // namespace bhe
