// The HTTP phase: sends the probe request over a Stream (TCP or TLS alike) and reads the
// response with the bounded parser of http_exchange.h until it can be judged. It reports facts;
// classify.h turns them into a verdict.
#pragma once

#include <functional>
#include <string>

#include "config/targets.h"
#include "probe/connect/stream.h"
#include "probe/http/http_exchange.h"
#include "probe/probe_trace.h"

namespace bhe {

struct HttpOutcome {
  enum class Kind {
    kResponse,        // a complete response, or its headers plus the kept part of the body
    kStatusRejected,  // the headers carry a status outside the accepted codes: the body is moot
    kInvalid,         // not HTTP, or malformed (parser_error)
    kBroken,          // the stream ended before a complete response (end)
  };
  Kind kind = Kind::kBroken;
  int status = 0;                                // 0 until a status line was parsed
  const HttpResponseParser* response = nullptr;  // body, sizes, headers; valid during the callback
  StreamEnd end;                                 // kBroken
};

class HttpPhase final : private StreamReceiver {
 public:
  using Done = std::function<void(const HttpOutcome& outcome)>;

  HttpPhase(Stream& stream, const ProbeTarget& target, std::size_t max_body_bytes,
            ProbeTrace* trace, Done done);
  HttpPhase(const HttpPhase&) = delete;
  HttpPhase& operator=(const HttpPhase&) = delete;

  // Writes the request and reads; `done` runs once (possibly before this returns), unless the
  // phase is destroyed first.
  void start();

 private:
  void onStreamData(std::string_view bytes) override;
  void onStreamEnd(const StreamEnd& end) override;
  void report(HttpOutcome::Kind kind, StreamEnd end = {});

  Stream& stream_;
  const ProbeTarget& target_;
  ProbeTrace* trace_;
  Done done_;
  HttpResponseParser parser_;
  bool status_seen_ = false;
};

}  // namespace bhe
