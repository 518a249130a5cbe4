#include "probe/http/http_phase.h"

#include "probe/classify/classify.h"

namespace bhe {

HttpPhase::HttpPhase(Stream& stream, const ProbeTarget& target, std::size_t max_body_bytes,
                     ProbeTrace* trace, Done done)
    : stream_(stream),
      target_(target),
      trace_(trace),
      done_(std::move(done)),
      parser_(max_body_bytes, trace != nullptr ? HttpResponseParser::KeepHeaders::kYes
                                               : HttpResponseParser::KeepHeaders::kNo) {}

void HttpPhase::start() {
  note(trace_,
       [&] { return "sending GET " + target_.path + " HTTP/1.1, Host: " + target_.host_header; });
  stream_.read(this);
  if (done_) {
    stream_.write(buildProbeRequest(target_.path, target_.host_header));
  }
}

void HttpPhase::onStreamData(std::string_view bytes) {
  if (!done_) {
    return;  // judged already
  }
  auto progress = parser_.feed(bytes);
  if (progress == HttpResponseParser::Progress::kInvalid) {
    report(HttpOutcome::Kind::kInvalid);
    return;
  }
  if (parser_.headersComplete() && !status_seen_) {
    status_seen_ = true;
    note(trace_, [&] {
      std::string line = "response status " + std::to_string(parser_.status());
      for (const auto& [name, value] : parser_.headers()) {
        line += "\n    " + name + ": " + value;
      }
      return line;
    });
    // The status is judged before the body: no need to wait for a body we will not read.
    if (!statusAccepted(parser_.status(), target_.match.status_codes)) {
      report(HttpOutcome::Kind::kStatusRejected);
      return;
    }
  }
  if (progress == HttpResponseParser::Progress::kComplete) {
    report(HttpOutcome::Kind::kResponse);
  }
}

void HttpPhase::onStreamEnd(const StreamEnd& end) {
  if (!done_) {
    return;
  }
  if (end.kind == StreamEnd::Kind::kEof &&
      parser_.finishAtEof() == HttpResponseParser::Progress::kComplete) {
    report(HttpOutcome::Kind::kResponse);  // read-until-close body
    return;
  }
  report(HttpOutcome::Kind::kBroken, end);
}

void HttpPhase::report(HttpOutcome::Kind kind, StreamEnd end) {
  if (kind == HttpOutcome::Kind::kResponse) {
    note(trace_, [&] {
      return "response complete: " + std::to_string(parser_.bodyBytesSeen()) + " body bytes, " +
             std::to_string(parser_.body().size()) + " kept for matching";
    });
  }
  HttpOutcome outcome;
  outcome.kind = kind;
  outcome.status = parser_.headersComplete() ? parser_.status() : 0;
  outcome.response = &parser_;
  outcome.end = std::move(end);
  Done done = std::move(done_);
  done(outcome);
}

}  // namespace bhe
