#include "exporter/http_message.h"

#include <algorithm>
#include <climits>

namespace bhe {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

HttpRequestParser* self(http_parser* p) {
  return static_cast<HttpRequestParser*>(p->data);
}

}  // namespace

std::string urlDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 &&
               hexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = urlDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : urlDecode(pair.substr(eq + 1), true);
    if (!key.empty()) {
      out.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return out;
}

HttpRequestParser::HttpRequestParser(HttpRequestLimits limits) : limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_url = &HttpRequestParser::onUrl;
  settings_.on_header_field = &HttpRequestParser::onHeaderField;
  settings_.on_header_value = &HttpRequestParser::onHeaderValue;
  settings_.on_headers_complete = &HttpRequestParser::onHeadersComplete;
  settings_.on_body = &HttpRequestParser::onBody;
  settings_.on_message_complete = &HttpRequestParser::onMessageComplete;
}

int HttpRequestParser::fail(int status, std::string text) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_text_ = std::move(text);
  }
  return -1;  // makes http-parser stop with an HPE_CB_* error
}

// Counts what the request line and headers store (URL, names, values, and 4 bytes of separators
// per header), so the limit bounds the memory a request can make us hold.
bool HttpRequestParser::countHeadBytes(std::size_t len) {
  head_bytes_ += len;
  return head_bytes_ <= limits_.max_head_bytes;
}

int HttpRequestParser::onUrl(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (!s->countHeadBytes(len)) {
    return s->fail(431, "request line too long (limit " +
                            std::to_string(s->limits_.max_head_bytes) + " bytes)\n");
  }
  s->url_.append(at, len);
  return 0;
}

void HttpRequestParser::finishHeader() {
  while (!value_.empty() && (value_.back() == ' ' || value_.back() == '\t')) {
    value_.pop_back();
  }
  std::transform(field_.begin(), field_.end(), field_.begin(), asciiLower);
  request_.headers.emplace(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

int HttpRequestParser::onHeaderField(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (s->in_value_) {
    if (s->headers_complete_) {
      s->in_value_ = false;
    } else {
      s->finishHeader();
    }
  }
  if (!s->countHeadBytes(len + (s->field_.empty() ? 4 : 0))) {
    return s->fail(431, "request headers too large (limit " +
                            std::to_string(s->limits_.max_head_bytes) + " bytes)\n");
  }
  if (!s->headers_complete_) {  // trailers of a chunked body are counted, not kept
    s->field_.append(at, len);
  }
  return 0;
}

int HttpRequestParser::onHeaderValue(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (!s->countHeadBytes(len)) {
    return s->fail(431, "request headers too large (limit " +
                            std::to_string(s->limits_.max_head_bytes) + " bytes)\n");
  }
  s->in_value_ = true;
  if (!s->headers_complete_) {
    s->value_.append(at, len);
  }
  return 0;
}

int HttpRequestParser::onHeadersComplete(http_parser* p) {
  auto* s = self(p);
  if (s->in_value_ || !s->field_.empty()) {
    s->finishHeader();
  }
  s->headers_complete_ = true;
  if (p->http_major != 1) {
    return s->fail(505, "only HTTP/1.0 and HTTP/1.1 are supported\n");
  }
  auto method = static_cast<http_method>(p->method);
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(s->url_.data(), s->url_.size(), method == HTTP_CONNECT, &url) != 0) {
    return s->fail(400, "bad request target\n");
  }
  auto field = [&](http_parser_url_fields f) -> std::string_view {
    if ((url.field_set & (1 << f)) == 0) {
      return {};
    }
    return std::string_view(s->url_).substr(url.field_data[f].off, url.field_data[f].len);
  };
  std::string_view path = field(UF_PATH);
  if (path.empty()) {
    path = "/";  // absolute form without a path: "GET http://host HTTP/1.1"
  }
  if (path.front() != '/') {
    return s->fail(400, "bad request target: the path must start with '/'\n");
  }
  s->request_.method = http_method_str(method);
  s->request_.http_1_1 = p->http_minor >= 1;
  s->request_.path = urlDecode(path, false);
  s->request_.query = parseQuery(field(UF_QUERY));

  bool chunked = (p->flags & F_CHUNKED) != 0;
  bool announced = p->content_length != ULLONG_MAX && p->content_length > 0;
  if (announced && p->content_length > s->limits_.max_body_bytes) {
    return s->fail(413, "request body too large (limit " +
                            std::to_string(s->limits_.max_body_bytes) + " bytes)\n");
  }
  auto expect = s->request_.headers.find("expect");
  s->continue_expected_ = (announced || chunked) && expect != s->request_.headers.end() &&
                          equalsIgnoringCase(expect->second, "100-continue");
  return 0;
}

int HttpRequestParser::onBody(http_parser* p, const char* at, std::size_t len) {
  auto* s = self(p);
  if (s->request_.body.size() + len > s->limits_.max_body_bytes) {
    return s->fail(413, "request body too large (limit " +
                            std::to_string(s->limits_.max_body_bytes) + " bytes)\n");
  }
  s->request_.body.append(at, len);
  return 0;
}

int HttpRequestParser::onMessageComplete(http_parser* p) {
  auto* s = self(p);
  s->message_complete_ = true;
  http_parser_pause(p, 1);  // one request per connection: the rest is not parsed
  return 0;
}

HttpRequestParser::Progress HttpRequestParser::progress() const {
  if (error_status_ != 0) {
    return Progress::kInvalid;
  }
  return message_complete_ ? Progress::kComplete : Progress::kNeedMore;
}

HttpRequestParser::Progress HttpRequestParser::feed(std::string_view bytes) {
  if (progress() != Progress::kNeedMore || bytes.empty()) {
    return progress();
  }
  received_ += bytes.size();
  http_parser_execute(&parser_, &settings_, bytes.data(), bytes.size());
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (error_status_ == 0 && err != HPE_OK && err != HPE_PAUSED) {
    // http-parser's own header limit (80 KiB) is above ours; it can only trip on bytes that are
    // not stored, such as an endless header line of blanks.
    fail(err == HPE_HEADER_OVERFLOW ? 431 : 400,
         std::string("bad request: ") + http_errno_description(err) + "\n");
  }
  return progress();
}

bool HttpRequestParser::takeContinueExpected() {
  bool expected = continue_expected_ && progress() == Progress::kNeedMore;
  continue_expected_ = false;
  return expected;
}

HttpRequest HttpRequestParser::takeRequest() {
  return std::move(request_);
}

std::string responseHead(const HttpResponse& response, std::optional<std::size_t> body_size) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     http_status_str(static_cast<http_status>(response.status)) +
                     "\r\nContent-Type: " + response.content_type +
                     (body_size ? "\r\nContent-Length: " + std::to_string(*body_size)
                                : std::string("\r\nTransfer-Encoding: chunked")) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  for (const auto& [name, value] : response.headers) {
    head += name + ": " + value + "\r\n";
  }
  head += "\r\n";
  return head;
}

std::string drain(BodyStream& stream) {
  std::string body;
  constexpr std::size_t kStep = 1 << 20;
  while (stream.next(body, body.size() + kStep)) {
  }
  return body;
}

void frameChunk(std::string& piece, bool last) {
  constexpr std::string_view kLastChunk = "0\r\n\r\n";
  const std::size_t size = piece.size() - kChunkHeaderBytes;
  if (size == 0) {
    piece.assign(last ? kLastChunk : std::string_view());
    return;
  }
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 8; ++i) {
    piece[7 - i] = kHex[(size >> (4 * i)) & 0xf];
  }
  piece[8] = '\r';
  piece[9] = '\n';
  piece += "\r\n";
  if (last) {
    piece += kLastChunk;
  }
}

}  // namespace bhe
