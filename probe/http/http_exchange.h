// The HTTP/1.1 half of a probe, without sockets: the request bytes, and an incremental response
// parser (http-parser) that keeps at most max_body_bytes of the body and bounds everything else.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bhe {

// GET path HTTP/1.1 with Host, User-Agent, Accept and Connection: close.
std::string buildProbeRequest(std::string_view path, std::string_view host_header);

class HttpResponseParser {
 public:
  // Headers are kept only for the debug log (headers()); a scheduled probe needs none of them,
  // and keeping them was five allocations per probe.
  enum class KeepHeaders : bool { kNo, kYes };
  explicit HttpResponseParser(std::size_t max_body_bytes, KeepHeaders keep = KeepHeaders::kNo);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  enum class Progress {
    kNeedMore,  // keep reading
    kComplete,  // whole message, or headers plus the kept body limit: stop reading
    kInvalid,   // not HTTP or malformed: see error()
  };
  Progress feed(std::string_view bytes);
  // The peer closed the connection: completes read-until-close bodies, else kNeedMore means
  // "closed before a complete response".
  Progress finishAtEof();

  bool headersComplete() const { return headers_complete_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }  // the kept part
  std::size_t bodyBytesSeen() const { return body_seen_; }
  std::size_t bytesReceived() const { return received_; }
  // Empty unless constructed with KeepHeaders::kYes.
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  const std::string& error() const { return error_; }

 private:
  static int onHeaderField(http_parser* p, const char* at, std::size_t len);
  static int onHeaderValue(http_parser* p, const char* at, std::size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, std::size_t len);
  static int onMessageComplete(http_parser* p);
  Progress progress() const;
  bool bodyKept() const { return headers_complete_ && body_.size() >= max_body_bytes_; }
  void stopOnceBodyKept(http_parser* p) const;

  http_parser parser_{};
  http_parser_settings settings_{};
  std::size_t max_body_bytes_;
  bool keep_headers_;
  bool headers_complete_ = false;
  bool message_complete_ = false;
  bool in_header_value_ = false;
  int status_ = 0;
  std::string body_;
  std::size_t body_seen_ = 0;
  std::size_t received_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string error_;
};

}  // namespace bhe
