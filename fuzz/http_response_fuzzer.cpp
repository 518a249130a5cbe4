// libFuzzer: the HTTP half of a probe, bytes in, classification out, as probe_session drives it:
// the response fed in pieces to HttpResponseParser, the status judged once the headers are in,
// then the end of the stream, then the verdict (classifyResponse, classifyInvalidResponse or a
// broken response).
//
// Input: the response bytes first; the probe's parameters (kept body size, expected status
// range, body needle, how the stream is cut into reads) come from the last bytes
// (FuzzedDataProvider takes integers from the end), so a raw response is a working seed.
//
// Checked beyond "no crash": the outcome does not depend on how the bytes were cut into reads
// (the same bytes as one read must give the same progress, status, kept body and headers; of an
// invalid response, the same verdict), the kept body never exceeds its limit, and a verdict is
// always one of the HTTP reasons.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "probe/classify/classify.h"
#include "probe/classify/reason.h"
#include "probe/http/http_exchange.h"

namespace {

using bhe::HttpResponseParser;
using Progress = HttpResponseParser::Progress;

constexpr std::array<std::string_view, 6> kNeedles = {"", "OK", "healthy", "\r\n", "0", "}"};

struct Outcome {
  Progress progress = Progress::kNeedMore;
  bool headers_complete = false;
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Outcome&) const = default;
};

// Feeds `bytes` in reads of the sizes `cut` returns, stopping where the session stops reading.
template <typename Cut>
Outcome drive(HttpResponseParser& parser, std::string_view bytes, Cut cut,
              const bhe::ProbeMatch& match) {
  Progress progress = Progress::kNeedMore;
  bool status_judged = false;
  while (!bytes.empty() && progress == Progress::kNeedMore) {
    const std::size_t n = std::min(bytes.size(), cut());
    progress = parser.feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (progress != Progress::kInvalid && parser.headersComplete() && !status_judged) {
      status_judged = true;
      (void)bhe::classifyResponse(parser.status(), "", bhe::ProbeMatch{match.status_codes, {}});
    }
  }
  if (progress == Progress::kNeedMore) {
    progress = parser.finishAtEof();
  }
  return {progress, parser.headersComplete(), parser.status(), parser.body(), parser.headers()};
}

// Nothing for a healthy response.
std::optional<bhe::Reason> verdict(const HttpResponseParser& parser, Progress progress,
                                   const bhe::ProbeMatch& match) {
  switch (progress) {
    case Progress::kInvalid:
      return bhe::classifyInvalidResponse(parser.error(), parser.bytesReceived()).reason;
    case Progress::kNeedMore:
      return bhe::classifyBrokenResponse("Connection closed by the backend", parser.bytesReceived())
          .reason;
    case Progress::kComplete:
      if (auto failure = bhe::classifyResponse(parser.status(), parser.body(), match)) {
        return failure->reason;
      }
      return std::nullopt;
  }
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::size_t max_body = input.ConsumeIntegralInRange<std::size_t>(0, 300);
  const int first = input.ConsumeIntegralInRange<int>(100, 599);
  const int last = input.ConsumeIntegralInRange<int>(first, 599);
  bhe::ProbeMatch match;
  match.status_codes = {bhe::StatusRange{first, last}};
  if (const auto needle = kNeedles[input.ConsumeIntegralInRange<std::size_t>(0, 5)];
      !needle.empty()) {
    match.body = std::string(needle);
  }
  const std::uint32_t cut_seed = input.ConsumeIntegral<std::uint32_t>();
  const std::string bytes = input.ConsumeRemainingBytesAsString();

  // Reads of 1 to 64 bytes, mostly small: where state machines split tokens.
  std::minstd_rand random(cut_seed);
  HttpResponseParser pieces(max_body);
  const Outcome cut = drive(
      pieces, bytes, [&] { return static_cast<std::size_t>(1 + random() % 64); }, match);
  HttpResponseParser whole(max_body);
  const Outcome at_once = drive(
      whole, bytes, [&] { return bytes.size(); }, match);

  // Of a response found invalid, only the verdict must agree: http-parser hands over the data of
  // a token cut by a read before it sees the bad byte, and not when the read holds both.
  const bool same = cut.progress == Progress::kInvalid
                        ? at_once.progress == Progress::kInvalid &&
                              cut.headers_complete == at_once.headers_complete &&
                              cut.status == at_once.status
                        : cut == at_once;
  if (!same) {
    __builtin_trap();
  }
  // How many body bytes went by before reading stopped does depend on the reads: not compared.
  if (cut.body.size() > max_body || pieces.bodyBytesSeen() < cut.body.size()) {
    __builtin_trap();
  }
  const auto reason = verdict(pieces, cut.progress, match);
  if (reason && *reason != bhe::Reason::kHttpInvalidResponse &&
      *reason != bhe::Reason::kHttpStatusMismatch && *reason != bhe::Reason::kHttpBodyMismatch) {
    __builtin_trap();
  }
  return 0;
}
