// HTTP/1.x messages of the web surface, without sockets: the request and response types that
// handlers see, the query-string decoding, an incremental request parser (http-parser) that
// enforces the size limits, and the response head. Pure code: unit-tested and fuzzed
// (fuzz/web_request_fuzzer.cpp).
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bhe {

struct HttpRequest {
  std::string method;
  std::string path;                            // percent-decoded
  std::map<std::string, std::string> query;    // decoded; first occurrence wins
  std::map<std::string, std::string> headers;  // lower-cased names; first occurrence wins
  std::string body;
  std::string remote_address;
  bool http_1_1 = true;  // false: HTTP/1.0, which knows no chunked transfer coding
};

// A response body made piece by piece as the connection takes it, so that a large body (the
// /metrics text of 10,000 servers is ~15 MiB) is never held whole, and a client that reads slowly
// holds one piece. Called on the web listener's loop thread, one call at a time.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Appends the next piece to `out`, stopping once `out` has reached `until` bytes (or a little
  // past it). Returns false when the body is complete: nothing comes after what it appended.
  virtual bool next(std::string& out, std::size_t until) = 0;
};

// The whole of `stream`, for a client that cannot take it in pieces (and for tests).
std::string drain(BodyStream& stream);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body comes from here (chunked for HTTP/1.1) and `body` is not sent.
  std::shared_ptr<BodyStream> body_stream = nullptr;
};

// Percent-decoding; `plus_is_space` for query strings (form encoding), not for paths. A '%' that
// is not followed by two hex digits is kept as it is.
std::string urlDecode(std::string_view in, bool plus_is_space);

// "a=1&b=x+y&c" -> {a: "1", b: "x y", c: ""}; empty keys are dropped, the first value wins.
std::map<std::string, std::string> parseQuery(std::string_view query);

struct HttpRequestLimits {
  std::size_t max_head_bytes = 16 * 1024;  // request line and headers together
  std::size_t max_body_bytes = 64 * 1024;  // announced or chunked
};

// Parses one request from bytes as they arrive. Anything after the first request is ignored
// (the connection answers one request and closes).
class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpRequestLimits limits = {});
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  enum class Progress {
    kNeedMore,  // keep reading
    kComplete,  // request() is ready
    kInvalid,   // answer errorStatus() with errorText() and close
  };
  Progress feed(std::string_view bytes);

  bool started() const { return received_ > 0; }
  // True once, when the headers asked for "100 Continue" before sending a body.
  bool takeContinueExpected();

  // After kComplete: the request (remote_address left empty). Moves it out.
  HttpRequest takeRequest();
  int errorStatus() const { return error_status_; }
  const std::string& errorText() const { return error_text_; }

 private:
  static int onUrl(http_parser* p, const char* at, std::size_t len);
  static int onHeaderField(http_parser* p, const char* at, std::size_t len);
  static int onHeaderValue(http_parser* p, const char* at, std::size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, std::size_t len);
  static int onMessageComplete(http_parser* p);
  int fail(int status, std::string text);
  bool countHeadBytes(std::size_t len);
  void finishHeader();
  Progress progress() const;

  HttpRequestLimits limits_;
  http_parser parser_{};
  http_parser_settings settings_{};
  std::size_t received_ = 0;
  std::size_t head_bytes_ = 0;
  std::string url_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool headers_complete_ = false;
  bool message_complete_ = false;
  bool continue_expected_ = false;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_text_;
};

// The status line and headers of a response with a body of `body_size` bytes, or with a chunked
// body when `body_size` is nullopt (also for HEAD, which then sends no body). Always
// "Connection: close" and "Cache-Control: no-store".
std::string responseHead(const HttpResponse& response, std::optional<std::size_t> body_size);

// Frames `piece` in place as one chunk of the chunked transfer coding: `piece` must start with
// kChunkHeaderBytes reserved bytes (any), which become the chunk's size line. With `last`, the
// last-chunk follows (an empty `piece` then is just the last-chunk).
inline constexpr std::size_t kChunkHeaderBytes = 10;  // 8 hex digits and CRLF
void frameChunk(std::string& piece, bool last);

}  // namespace bhe
