#include "probe/http/http_exchange.h"

#include "common/version.h"

namespace bhe {
namespace {

// Kept headers (the debug log's): past this many, later ones are dropped (http-parser
// itself rejects a header block above HTTP_MAX_HEADER_SIZE, 80 KiB).
constexpr std::size_t kMaxKeptHeaders = 64;

HttpResponseParser* self(http_parser* p) {
  return static_cast<HttpResponseParser*>(p->data);
}

}  // namespace

std::string buildProbeRequest(std::string_view path, std::string_view host_header) {
  std::string request;
  request.reserve(128 + path.size() + host_header.size());
  request += "GET ";
  request += path;
  request += " HTTP/1.1\r\nHost: ";
  request += host_header;
  request += "\r\nUser-Agent: ";
  request += kExporterName;
  request += '/';
  request += kBheVersion;
  request += "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  return request;
}

HttpResponseParser::HttpResponseParser(std::size_t max_body_bytes, KeepHeaders keep)
    : max_body_bytes_(max_body_bytes), keep_headers_(keep == KeepHeaders::kYes) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_header_field = &HttpResponseParser::onHeaderField;
  settings_.on_header_value = &HttpResponseParser::onHeaderValue;
  settings_.on_headers_complete = &HttpResponseParser::onHeadersComplete;
  settings_.on_body = &HttpResponseParser::onBody;
  settings_.on_message_complete = &HttpResponseParser::onMessageComplete;
}

int HttpResponseParser::onHeaderField(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (!s->keep_headers_ || s->headers_complete_) {
    return 0;  // not asked for, or chunked trailers
  }
  if (s->in_header_value_ || s->headers_.empty()) {
    if (s->headers_.size() >= kMaxKeptHeaders) {
      return 0;
    }
    s->headers_.emplace_back();
    s->in_header_value_ = false;
  }
  s->headers_.back().first.append(at, len);
  return 0;
}

int HttpResponseParser::onHeaderValue(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  // Not kept: onHeaderField left headers_ empty.
  if (s->headers_complete_ || s->headers_.empty() || s->headers_.size() > kMaxKeptHeaders) {
    return 0;
  }
  s->in_header_value_ = true;
  s->headers_.back().second.append(at, len);
  return 0;
}

int HttpResponseParser::onHeadersComplete(http_parser* p) {
  auto* s = self(p);
  s->headers_complete_ = true;
  s->status_ = static_cast<int>(p->status_code);
  s->stopOnceBodyKept(p);
  return 0;
}

int HttpResponseParser::onBody(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  s->body_seen_ += len;
  if (s->body_.size() < s->max_body_bytes_) {
    s->body_.append(at, std::min(len, s->max_body_bytes_ - s->body_.size()));
  }
  s->stopOnceBodyKept(p);
  return 0;
}

// Bytes past the kept body are never judged: without the pause, a malformed chunk after it made
// the response invalid when it came in the same read, and complete when it came in a later one.
void HttpResponseParser::stopOnceBodyKept(http_parser* p) const {
  if (bodyKept()) {
    http_parser_pause(p, 1);
  }
}

int HttpResponseParser::onMessageComplete(http_parser* p) {
  auto* s = self(p);
  s->message_complete_ = true;
  http_parser_pause(p, 1);  // ignore anything after the first response
  return 0;
}

HttpResponseParser::Progress HttpResponseParser::progress() const {
  if (!error_.empty()) {
    return Progress::kInvalid;
  }
  if (message_complete_ || bodyKept()) {
    return Progress::kComplete;
  }
  return Progress::kNeedMore;
}

HttpResponseParser::Progress HttpResponseParser::feed(std::string_view bytes) {
  if (progress() != Progress::kNeedMore) {
    return progress();
  }
  received_ += bytes.size();
  std::size_t parsed = http_parser_execute(&parser_, &settings_, bytes.data(), bytes.size());
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && err != HPE_PAUSED) {
    error_ = std::string(http_errno_name(err)) + ": " + http_errno_description(err);
  } else if (parsed != bytes.size() && !message_complete_ && !bodyKept()) {
    error_ = "parser stopped early";
  }
  return progress();
}

HttpResponseParser::Progress HttpResponseParser::finishAtEof() {
  if (progress() != Progress::kNeedMore) {
    return progress();
  }
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && err != HPE_PAUSED) {
    // An EOF in the middle of a message is "closed early", not a syntax error: the session
    // reports it as a broken response.
    return Progress::kNeedMore;
  }
  return progress();
}

}  // namespace bhe
