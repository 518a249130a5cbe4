#include "exporter/web_listener.h"

#include <uv.h>

#include <list>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/host_port.h"
#include "common/ip_address.h"
#include "exporter/loop_bridge.h"

namespace bhe {
namespace {

// Connections the kernel queues while the loop is busy for a moment (a burst of scrapes).
constexpr int kListenBacklog = 1024;
// Accepts per loop turn. libuv accepts everything pending in one go; under a flood of new
// connections that would push out (at the cap) a scraper whose request has arrived but was not
// read yet. Between turns, requests that have arrived are read.
constexpr int kAcceptsPerTurn = 64;
// At shutdown, how long answers already on their way may take to be written.
constexpr std::chrono::milliseconds kStopDrainLimit{2000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A streamed body is made and written this much at a time: what a connection holds of it.
constexpr std::size_t kPieceBytes = 256 * 1024;

HttpResponse textResponse(int status, std::string text) {
  return {status, "text/plain; charset=utf-8", std::move(text), {}};
}

std::string peerAddress(const uv_tcp_t* tcp) {
  sockaddr_storage peer{};
  int length = sizeof peer;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
    return "";
  }
  char text[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&peer), text, sizeof text);
  } else {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&peer), text, sizeof text);
  }
  // An IPv4 client of the dual-stack listener arrives as ::ffff:a.b.c.d.
  std::string_view address(text);
  constexpr std::string_view kMapped = "::ffff:";
  if (address.starts_with(kMapped) && address.find('.') != std::string_view::npos) {
    address.remove_prefix(kMapped.size());
  }
  return std::string(address);
}

}  // namespace

struct HttpResponder::Mailbox {
  explicit Mailbox(uv_loop_t* loop) : bridge(loop) {}
  LoopBridge bridge;
  // Runs on the loop thread only (through the bridge), while the loop is alive.
  std::function<void(std::uint64_t connection, std::string head, std::string body,
                     std::shared_ptr<BodyStream> stream)>
      deliver;
};

HttpResponder::HttpResponder(std::shared_ptr<Mailbox> mailbox, std::uint64_t connection,
                             bool head_only, bool chunked)
    : mailbox_(std::move(mailbox)),
      connection_(connection),
      head_only_(head_only),
      chunked_(chunked) {}

HttpResponder& HttpResponder::operator=(HttpResponder&& other) noexcept {
  if (this != &other) {
    mailbox_ = std::move(other.mailbox_);
    connection_ = other.connection_;
    head_only_ = other.head_only_;
    chunked_ = other.chunked_;
  }
  return *this;
}

HttpResponder::~HttpResponder() {
  if (mailbox_) {
    respond(textResponse(503, "the request was dropped: the exporter is shutting down\n"));
  }
}

void HttpResponder::respond(HttpResponse response) {
  if (!mailbox_) {
    return;
  }
  std::shared_ptr<Mailbox> mailbox = std::move(mailbox_);
  std::shared_ptr<BodyStream> stream = std::move(response.body_stream);
  if (stream && !chunked_ && !head_only_) {
    response.body = drain(*stream);
    stream.reset();
  }
  // The head is formatted here, on the handler's thread, to keep the loop's work per response
  // to the write itself.
  std::string head =
      stream ? responseHead(response, std::nullopt) : responseHead(response, response.body.size());
  std::string body;
  if (head_only_) {
    stream.reset();
  } else {
    body = std::move(response.body);
  }
  Mailbox* target = mailbox.get();
  mailbox->bridge.post([target, id = connection_, head = std::move(head), body = std::move(body),
                        stream = std::move(stream)]() mutable {
    target->deliver(id, std::move(head), std::move(body), std::move(stream));
  });
}

class WebListener::Loop {
 public:
  Loop(const WebListenerLimits& limits, const Sink& sink) : limits_(limits), sink_(sink) {}
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop() { stop(); }

  // Caller's thread: binds and listens, then starts the loop thread. Returns the bound port.
  int start(const std::string& listen_address);
  // Another thread: closes everything on the loop and joins it.
  void stop();

 private:
  struct Connection {
    enum class Phase { kReading, kHandling, kWriting, kLingering, kClosing };
    Connection(Loop& owner, std::uint64_t connection_id, const HttpRequestLimits& limits)
        : loop(owner), id(connection_id), parser(limits) {}
    uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }

    Loop& loop;
    const std::uint64_t id;
    uv_tcp_t tcp{};
    uv_timer_t timer{};
    int open_handles = 0;
    Phase phase = Phase::kReading;
    HttpRequestParser parser;
    std::list<Connection*>::iterator reading_position;  // in reading_, while kReading
    std::string remote_address;
    std::string head;  // the response being written
    std::string body;
    std::shared_ptr<BodyStream> body_stream;  // the rest of a streamed body, after `piece`
    std::string piece;                        // the chunk of it being written
    uv_write_t write{};
    uv_shutdown_t shutdown{};
  };

  int bindAndListen(const std::string& host, int port);
  void accept();
  void onBytes(Connection* c, std::string_view bytes);
  void dispatch(Connection* c);
  void deliver(std::uint64_t id, std::string head, std::string body,
               std::shared_ptr<BodyStream> stream);
  void writeResponse(Connection* c, std::string head, std::string body,
                     std::shared_ptr<BodyStream> stream = nullptr);
  void writeNextPiece(Connection* c);
  int write(Connection* c, uv_buf_t* bufs, unsigned count);
  void onWritten(Connection* c, int status);
  void onDeadline(Connection* c);
  void close(Connection* c);
  void beginStop();
  bool answersPending() const;
  void closeEverything();

  static void armTimer(Connection* c, std::chrono::milliseconds after);

  WebListenerLimits limits_;
  Sink sink_;
  uv_loop_t loop_{};
  uv_tcp_t server_{};
  uv_async_t stop_async_{};
  uv_check_t turn_{};  // after each poll: a new accept budget
  int accepts_left_ = kAcceptsPerTurn;
  bool accept_deferred_ = false;  // libuv holds one accepted socket until we take it
  std::shared_ptr<HttpResponder::Mailbox> mailbox_;
  std::thread thread_;
  bool running_ = false;
  bool stopping_ = false;  // no new connections; answers on their way are written
  bool closed_everything_ = false;
  uv_timer_t drain_timer_{};
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Connection*> connections_;
  // Connections still reading their request, oldest first: the ones pushed out at the cap.
  std::list<Connection*> reading_;
  char read_buffer_[64 * 1024];  // one loop thread: every read is consumed before the next
};

int WebListener::Loop::bindAndListen(const std::string& host, int port) {
  sockaddr_storage address{};
  int rc = host.find(':') != std::string::npos
               ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address))
               : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address));
  if (rc != 0) {
    return rc;
  }
  uv_tcp_init(&loop_, &server_);
  server_.data = this;
  rc = uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&address), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), kListenBacklog,
                   [](uv_stream_t* server, int status) {
                     auto* self = static_cast<Loop*>(server->data);
                     if (status != 0) {
                       return;  // EMFILE and the like: libuv has shed that connection
                     }
                     if (self->accepts_left_ == 0) {
                       // Not taking it makes libuv stop polling the listener until we do.
                       self->accept_deferred_ = true;
                       return;
                     }
                     self->accept();
                   });
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  return rc;
}

int WebListener::Loop::start(const std::string& listen_address) {
  auto parsed = parseHostPort(
      listen_address, {.port_required = true, .allow_port_zero = true, .allow_empty_host = true});
  if (!parsed.value) {
    throw std::runtime_error("--web.listen-address \"" + listen_address +
                             "\" must be HOST:PORT, [IPV6]:PORT or :PORT (" + parsed.error + ")");
  }
  const std::string& host = parsed.value->host;
  const int port = *parsed.value->port;
  if (!host.empty() && !isIpLiteral(host)) {
    throw std::runtime_error("--web.listen-address \"" + listen_address +
                             "\": the host must be an IP address, or empty for every interface");
  }
  uv_loop_init(&loop_);
  int rc = 0;
  if (host.empty()) {
    // "::" without IPV6_V6ONLY takes IPv4 connections too (dual-stack, as Go's ":port" does);
    // a kernel without IPv6 gets the IPv4 wildcard instead.
    rc = bindAndListen("::", port);
    if (rc == UV_EAFNOSUPPORT || rc == UV_EADDRNOTAVAIL) {
      rc = bindAndListen("0.0.0.0", port);
    }
  } else {
    rc = bindAndListen(host, port);
  }
  if (rc != 0) {
    uv_loop_close(&loop_);
    throw std::runtime_error("cannot listen on " + listen_address + ": " + uv_strerror(rc) +
                             " (address in use, or not a local address?)");
  }
  sockaddr_storage bound{};
  int length = sizeof bound;
  uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  mailbox_ = std::make_shared<HttpResponder::Mailbox>(&loop_);
  mailbox_->deliver = [this](std::uint64_t id, std::string head, std::string body,
                             std::shared_ptr<BodyStream> stream) {
    deliver(id, std::move(head), std::move(body), std::move(stream));
  };
  uv_async_init(&loop_, &stop_async_,
                [](uv_async_t* a) { static_cast<Loop*>(a->data)->beginStop(); });
  uv_timer_init(&loop_, &drain_timer_);
  drain_timer_.data = this;
  stop_async_.data = this;
  uv_check_init(&loop_, &turn_);
  turn_.data = this;
  uv_check_start(&turn_, [](uv_check_t* check) {
    auto* self = static_cast<Loop*>(check->data);
    self->accepts_left_ = kAcceptsPerTurn;
    if (self->accept_deferred_) {
      self->accept_deferred_ = false;
      self->accept();
    }
  });
  running_ = true;
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  return bound_port;
}

void WebListener::Loop::stop() {
  if (!running_) {
    return;
  }
  running_ = false;
  uv_async_send(&stop_async_);
  thread_.join();
  uv_loop_close(&loop_);
}

// Stopping: accept nothing more and drop requests still arriving, but write the answers that
// are on their way (the handler threads were stopped first, so every answer has been handed
// over by now: a handler that finished, or a 503 for a request it never started), for at most
// kStopDrainLimit.
void WebListener::Loop::beginStop() {
  stopping_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
  std::vector<Connection*> unstarted(reading_.begin(), reading_.end());
  for (Connection* c : unstarted) {
    close(c);
  }
  if (!answersPending()) {
    closeEverything();
    return;
  }
  uv_timer_start(
      &drain_timer_, [](uv_timer_t* t) { static_cast<Loop*>(t->data)->closeEverything(); },
      static_cast<std::uint64_t>(kStopDrainLimit.count()), 0);
}

bool WebListener::Loop::answersPending() const {
  for (const auto& [id, c] : connections_) {
    if (c->phase == Connection::Phase::kHandling || c->phase == Connection::Phase::kWriting) {
      return true;
    }
  }
  return false;
}

void WebListener::Loop::closeEverything() {
  if (closed_everything_) {
    return;
  }
  closed_everything_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
  std::vector<Connection*> open;
  for (const auto& [id, c] : connections_) {
    open.push_back(c);
  }
  for (Connection* c : open) {
    close(c);
  }
  mailbox_->bridge.close();  // answers still on their way are dropped
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&turn_), nullptr);
}

void WebListener::Loop::armTimer(Connection* c, std::chrono::milliseconds after) {
  uv_timer_start(
      &c->timer,
      [](uv_timer_t* t) {
        auto* conn = static_cast<Connection*>(t->data);
        conn->loop.onDeadline(conn);
      },
      static_cast<std::uint64_t>(after.count()), 0);
}

void WebListener::Loop::accept() {
  --accepts_left_;
  if (connections_.size() >= limits_.max_connections && !reading_.empty()) {
    close(reading_.front());
  }
  auto* c = new Connection(*this, next_id_++, limits_.request);
  uv_tcp_init(&loop_, &c->tcp);
  uv_timer_init(&loop_, &c->timer);
  c->tcp.data = c->timer.data = c->write.data = c->shutdown.data = c;
  c->open_handles = 2;
  const bool full = connections_.size() >= limits_.max_connections;
  connections_.emplace(c->id, c);
  c->reading_position = reading_.insert(reading_.end(), c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&server_), c->stream()) != 0 || full) {
    close(c);  // at the cap with every connection busy on a request: this one must wait
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->remote_address = peerAddress(&c->tcp);
  armTimer(c, limits_.request_deadline);
  uv_read_start(
      c->stream(),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto& loop = static_cast<Connection*>(h->data)->loop;
        *buf = uv_buf_init(loop.read_buffer_, sizeof loop.read_buffer_);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(s->data);
        if (nread < 0) {
          conn->loop.close(conn);  // EOF or error: nothing more to say to this client
        } else if (nread > 0 && conn->phase == Connection::Phase::kReading) {
          conn->loop.onBytes(conn, std::string_view(buf->base, static_cast<std::size_t>(nread)));
        }
        // Anything else is the unread rest of a request, read only to be dropped (linger).
      });
}

void WebListener::Loop::onBytes(Connection* c, std::string_view bytes) {
  auto progress = c->parser.feed(bytes);
  if (c->parser.takeContinueExpected()) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(kContinue.data()), kContinue.size());
    uv_try_write(c->stream(), &buf, 1);  // a fresh connection's send buffer has room for it
  }
  if (progress == HttpRequestParser::Progress::kComplete) {
    dispatch(c);
  } else if (progress == HttpRequestParser::Progress::kInvalid) {
    HttpResponse error = textResponse(c->parser.errorStatus(), c->parser.errorText());
    writeResponse(c, responseHead(error, error.body.size()), std::move(error.body));
  }
}

void WebListener::Loop::dispatch(Connection* c) {
  reading_.erase(c->reading_position);
  c->phase = Connection::Phase::kHandling;
  uv_read_stop(c->stream());
  uv_timer_stop(&c->timer);
  HttpRequest request = c->parser.takeRequest();
  request.remote_address = c->remote_address;
  const bool head_only = request.method == "HEAD";
  const bool chunked = request.http_1_1;
  try {
    sink_(std::move(request), HttpResponder(mailbox_, c->id, head_only, chunked));
  } catch (const std::exception&) {
    // The responder went with the exception and answered 503; the loop goes on.
  }
}

void WebListener::Loop::deliver(std::uint64_t id, std::string head, std::string body,
                                std::shared_ptr<BodyStream> stream) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->phase != Connection::Phase::kHandling) {
    return;  // the client went away meanwhile
  }
  writeResponse(it->second, std::move(head), std::move(body), std::move(stream));
}

void WebListener::Loop::writeResponse(Connection* c, std::string head, std::string body,
                                      std::shared_ptr<BodyStream> stream) {
  if (c->phase == Connection::Phase::kReading) {
    reading_.erase(c->reading_position);
  }
  uv_read_stop(c->stream());
  c->phase = Connection::Phase::kWriting;
  c->head = std::move(head);
  c->body = std::move(body);
  c->body_stream = std::move(stream);
  uv_buf_t bufs[] = {uv_buf_init(c->head.data(), static_cast<unsigned>(c->head.size())),
                     uv_buf_init(c->body.data(), static_cast<unsigned>(c->body.size()))};
  if (write(c, bufs, c->body.empty() ? 1 : 2) != 0) {
    close(c);
    return;
  }
  // One deadline for the whole response, a streamed one too: a slow reader is bounded in time
  // as well as in memory.
  armTimer(c, limits_.write_deadline);
}

// A streamed body's next piece is made only once the previous one was written: a connection
// holds one piece, however slowly its client reads.
void WebListener::Loop::writeNextPiece(Connection* c) {
  bool more = true;
  try {
    do {
      c->piece.assign(kChunkHeaderBytes, '\0');
      more = c->body_stream->next(c->piece, kPieceBytes);
    } while (more && c->piece.size() == kChunkHeaderBytes);
  } catch (const std::exception&) {
    close(c);  // the client sees a chunked body without its last chunk: incomplete
    return;
  }
  frameChunk(c->piece, !more);
  if (!more) {
    c->body_stream.reset();
  }
  uv_buf_t buf = uv_buf_init(c->piece.data(), static_cast<unsigned>(c->piece.size()));
  if (write(c, &buf, 1) != 0) {
    close(c);
  }
}

int WebListener::Loop::write(Connection* c, uv_buf_t* bufs, unsigned count) {
  return uv_write(&c->write, c->stream(), bufs, count, [](uv_write_t* w, int status) {
    auto* conn = static_cast<Connection*>(w->data);
    conn->loop.onWritten(conn, status);
  });
}

void WebListener::Loop::onWritten(Connection* c, int status) {
  if (c->phase == Connection::Phase::kClosing) {
    return;  // cancelled by the close
  }
  if (status < 0) {
    close(c);
    return;
  }
  c->head = std::string();
  c->body = std::string();
  if (c->body_stream) {
    writeNextPiece(c);
    return;
  }
  c->phase = Connection::Phase::kLingering;
  c->piece = std::string();
  int rc = uv_shutdown(&c->shutdown, c->stream(), [](uv_shutdown_t* s, int result) {
    auto* conn = static_cast<Connection*>(s->data);
    if (result < 0 && conn->phase != Connection::Phase::kClosing) {
      conn->loop.close(conn);
    }
  });
  if (rc != 0) {
    close(c);
    return;
  }
  // The client closes once it has the response; until then (or the linger deadline) whatever
  // it still sends is read and dropped, so that our close does not reset the connection before
  // the response was read.
  uv_read_start(
      c->stream(),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto& loop = static_cast<Connection*>(h->data)->loop;
        *buf = uv_buf_init(loop.read_buffer_, sizeof loop.read_buffer_);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        if (nread < 0) {
          auto* conn = static_cast<Connection*>(s->data);
          conn->loop.close(conn);
        }
      });
  armTimer(c, limits_.linger);
}

void WebListener::Loop::onDeadline(Connection* c) {
  if (c->phase == Connection::Phase::kReading && c->parser.started()) {
    HttpResponse timeout =
        textResponse(408, "the request did not arrive within " +
                              std::to_string(limits_.request_deadline.count()) + " ms\n");
    writeResponse(c, responseHead(timeout, timeout.body.size()), std::move(timeout.body));
    return;
  }
  close(c);  // silent since accept, a write or a linger that took too long
}

void WebListener::Loop::close(Connection* c) {
  if (c->phase == Connection::Phase::kClosing) {
    return;
  }
  if (c->phase == Connection::Phase::kReading) {
    reading_.erase(c->reading_position);
  }
  connections_.erase(c->id);
  c->phase = Connection::Phase::kClosing;
  auto closed = [](uv_handle_t* h) {
    auto* conn = static_cast<Connection*>(h->data);
    if (--conn->open_handles == 0) {
      delete conn;
    }
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), closed);
  if (stopping_ && !closed_everything_ && !answersPending()) {
    closeEverything();
  }
}

WebListener::WebListener(WebListenerLimits limits, Sink sink)
    : limits_(limits), sink_(std::move(sink)) {}

WebListener::~WebListener() {
  stop();
}

void WebListener::start(const std::string& listen_address) {
  auto loop = std::make_unique<Loop>(limits_, sink_);
  port_ = loop->start(listen_address);
  loop_ = std::move(loop);
}

void WebListener::stop() {
  if (loop_) {
    loop_->stop();
    loop_.reset();
  }
}

}  // namespace bhe
