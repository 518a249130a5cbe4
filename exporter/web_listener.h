// The web surface's sockets: one libuv loop, in a thread of its own, accepts connections, reads
// and parses each request under a deadline and size limits, hands complete requests to a sink
// and writes the responses it is given. Nothing on the loop waits for a handler, so idle, slow
// or numerous clients cost a few hundred bytes each, never a thread (docs/web-surface.md).
//
// The process must ignore SIGPIPE (main does): a client that goes away while its response is
// being written must not kill the exporter.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "exporter/http_message.h"

namespace bhe {

struct WebListenerLimits {
  // Beyond this many open connections, a new one pushes out the oldest connection that is still
  // reading its request (a client that is idle or slow); if every connection is busy with a
  // request, the new one is closed. Each connection holds a file descriptor.
  std::size_t max_connections = 512;
  // From accept until the whole request (headers and the small body) has arrived. Slowloris and
  // idle clients are closed here; real clients send a request in milliseconds.
  std::chrono::milliseconds request_deadline{5000};
  // For writing the whole response: 15 MB of /metrics to a slow reader, generously.
  std::chrono::milliseconds write_deadline{60000};
  // After the response: how long the unread rest of a request is drained before the close, so
  // the client reads the response instead of a reset.
  std::chrono::milliseconds linger{2000};
  HttpRequestLimits request{};
};

// Answers one request, once, from any thread. Destroyed without an answer, it answers 503 (the
// request was dropped, e.g. at shutdown). After the listener stopped, answers go nowhere.
class HttpResponder {
 public:
  struct Mailbox;  // the listener's loop, as seen from other threads

  // `chunked`: the client takes a chunked body (HTTP/1.1); an HTTP/1.0 client gets a body
  // stream's text whole, with its length.
  HttpResponder(std::shared_ptr<Mailbox> mailbox, std::uint64_t connection, bool head_only,
                bool chunked);
  HttpResponder(HttpResponder&& other) noexcept = default;
  HttpResponder& operator=(HttpResponder&& other) noexcept;
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;
  ~HttpResponder();

  void respond(HttpResponse response);

 private:
  std::shared_ptr<Mailbox> mailbox_;
  std::uint64_t connection_ = 0;
  bool head_only_ = false;
  bool chunked_ = true;
};

class WebListener {
 public:
  // Called on the loop thread for every complete request; must not block (hand the work to
  // another thread and answer through the responder).
  using Sink = std::function<void(HttpRequest request, HttpResponder responder)>;

  WebListener(WebListenerLimits limits, Sink sink);
  WebListener(const WebListener&) = delete;
  WebListener& operator=(const WebListener&) = delete;
  ~WebListener();

  // listen_address: ":9985" (every interface, IPv6 and IPv4), "0.0.0.0:9985", "127.0.0.1:0",
  // "[::1]:9985". Binds before returning; throws std::runtime_error with the reason.
  void start(const std::string& listen_address);
  // Closes the listener and every connection and joins the loop thread. Any thread but the
  // loop's own; idempotent.
  void stop();
  int port() const { return port_; }

 private:
  class Loop;
  WebListenerLimits limits_;
  Sink sink_;
  std::unique_ptr<Loop> loop_;
  int port_ = 0;
};

}  // namespace bhe
