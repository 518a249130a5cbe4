// libFuzzer target for what the web surface parses itself: request bytes as a client sends them
// (in pieces whose sizes the input chooses), query strings and percent-decoding. Checks the
// parser's promises: it never keeps more than its limits, a complete request has a path that
// starts with '/', an invalid one has an error status, and the response head stays well formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporter/http_message.h"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  for (bool plus_is_space : {false, true}) {
    check(bhe::urlDecode(input, plus_is_space).size() <= input.size());
  }
  for (const auto& [key, value] : bhe::parseQuery(input)) {
    check(!key.empty() && key.size() + value.size() <= input.size());
  }

  // The first byte picks the piece size (1-16 bytes, as a slow client would send them).
  if (input.empty()) {
    return 0;
  }
  const std::size_t piece = static_cast<std::uint8_t>(input.front()) % 16 + 1;
  input.remove_prefix(1);
  const bhe::HttpRequestLimits limits{.max_head_bytes = 512, .max_body_bytes = 256};
  bhe::HttpRequestParser parser(limits);
  auto progress = bhe::HttpRequestParser::Progress::kNeedMore;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    progress = parser.feed(input.substr(at, piece));
    parser.takeContinueExpected();
  }
  if (progress == bhe::HttpRequestParser::Progress::kComplete) {
    bhe::HttpRequest request = parser.takeRequest();
    check(!request.method.empty());
    check(!request.path.empty() && request.path.front() == '/');
    check(request.body.size() <= limits.max_body_bytes);
    std::size_t head = request.path.size();
    for (const auto& [name, value] : request.headers) {
      head += name.size() + value.size();
    }
    check(head <= limits.max_head_bytes);  // decoding and trimming only shrink what was counted
    bhe::HttpResponse response{200, "text/plain", request.body, {{"X-Echo", request.method}}};
    std::string text = bhe::responseHead(response, response.body.size());
    check(text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("\r\n\r\n"));
  } else if (progress == bhe::HttpRequestParser::Progress::kInvalid) {
    check(parser.errorStatus() >= 400 && parser.errorStatus() <= 599);
    check(!parser.errorText().empty());
  }
  return 0;
}
