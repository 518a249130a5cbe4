#include "probe/connect/tcp_stream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <memory>

#include "common/descriptor_budget.h"

namespace bhe {
namespace {

// libuv fills the read buffer and hands it to the read callback at once, and receivers consume
// the bytes within that call: one buffer serves every connection of the probe loop (there is one
// probe loop per process). Not thread_local: a 64 KiB TLS block would be reserved in every thread,
// and civetweb starts its threads with stacks too small for that.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
std::array<char, kReadBufferBytes> read_buffer;

struct WriteRequest {
  uv_write_t req;
  std::string data;
};

}  // namespace

TcpStream::TcpStream(uv_loop_t* loop) : loop_(loop) {}

// A stream is destroyed once its exchange has been judged (or abandoned: timeout, shutdown), so
// nothing more is owed to the peer. An orderly close would cost a FIN and its ACK, and leave the
// connection in TIME_WAIT for 60 s on whichever side closed first: the backend's, for a server
// that closes after answering (nginx: ~100,000 such sockets at 2,000 probes/s), or the
// exporter's, for one that keeps the connection open, where the ephemeral ports to one
// address:port then run out at ~470 probes/s. SO_LINGER 0 makes close() send a reset and free
// the connection at once, as HAProxy's health checks do (kubelet sets SO_LINGER on its probes'
// sockets for the same reason).
TcpStream::~TcpStream() {
  uv_os_fd_t fd = -1;
  if (tcp_.ok() && uv_fileno(tcp_.base(), &fd) == 0) {
    const linger reset_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  }
}

int TcpStream::connect(const std::string& address, int port, Connected connected) {
  sockaddr_storage addr{};
  int rc = address.find(':') != std::string::npos
               ? uv_ip6_addr(address.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
               : uv_ip4_addr(address.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) {
    return rc;
  }
  // The socket is made before the connect (uv_tcp_init_ex with a family), so that a descriptor
  // out of the web surface's reserve is given back before anything reaches the backend.
  uv_loop_t* loop = loop_;
  const unsigned family = addr.ss_family;
  tcp_ =
      UvHandle<uv_tcp_t>([loop, family](uv_tcp_t* h) { return uv_tcp_init_ex(loop, h, family); });
  if (!tcp_.ok()) {
    return tcp_.error();  // EMFILE, ENFILE, ENOBUFS, ENOMEM: the exporter's, not the backend's
  }
  tcp_->data = this;
  uv_os_fd_t fd = -1;
  if (uv_fileno(tcp_.base(), &fd) != 0 || !probeMayKeepDescriptor(fd)) {
    tcp_.close();
    return UV_EMFILE;
  }
  uv_tcp_nodelay(tcp_.get(), 1);
  // The client speaks first (a request, a ClientHello) the moment the connection is up, so the
  // handshake's last ACK can travel with those bytes: on a client socket TCP_DEFER_ACCEPT makes
  // Linux hold that ACK (for at most 200 ms) until the first write carries it. The backend then
  // learns of the connection and its request at once: one wake-up of it instead of two, and
  // against nginx 7 TCP segments per HTTP probe instead of 9.
  const int carry_ack_with_request = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &carry_ack_with_request,
               sizeof carry_ack_with_request);
  connected_ = std::move(connected);
  // The request is freed by its callback, which libuv always runs: with UV_ECANCELED when the
  // stream is closed first (the handle's data is then null).
  auto* req = new uv_connect_t;
  rc = uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&addr),
                      [](uv_connect_t* r, int status) {
                        auto* self = static_cast<TcpStream*>(r->handle->data);
                        delete r;
                        if (self != nullptr) {
                          Connected done = std::move(self->connected_);
                          done(status);
                        }
                      });
  if (rc != 0) {
    delete req;
    connected_ = nullptr;
    return rc;
  }
  // Armed together with the connect, reading costs no epoll_ctl of its own: libuv registers the
  // socket once for both events and, when the connect completes, modifies it to EPOLLIN alone.
  // Armed in the connect's callback, it would come after libuv had forgotten the registration
  // (EPOLLOUT done, nothing left) and cost an EPOLL_CTL_ADD that fails with EEXIST before that
  // EPOLL_CTL_MOD: one system call more per probe. Until read() names a receiver, nothing is
  // taken from the socket.
  startReading();
  return 0;
}

void TcpStream::read(StreamReceiver* receiver) {
  receiver_ = receiver;
  if (!reading_) {
    startReading();
  }
}

void TcpStream::startReading() {
  reading_ = uv_read_start(
                 tcp_.stream(),
                 [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
                   const auto* self = static_cast<TcpStream*>(h->data);
                   // No receiver yet: no buffer, so the bytes stay in the socket (UV_ENOBUFS).
                   const bool wanted = self != nullptr && self->receiver_ != nullptr;
                   buf->base = wanted ? read_buffer.data() : nullptr;
                   buf->len = wanted ? read_buffer.size() : 0;
                 },
                 [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
                   if (auto* self = static_cast<TcpStream*>(s->data)) {
                     self->onRead(nread, buf);
                   }
                 }) == 0;
}

void TcpStream::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (ended_ || nread == 0) {
    return;
  }
  if (receiver_ == nullptr) {  // the peer spoke first: read() takes it from the socket
    uv_read_stop(tcp_.stream());
    reading_ = false;
    return;
  }
  if (nread > 0) {
    receiver_->onStreamData(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    return;
  }
  const int err = static_cast<int>(nread);
  if (err == UV_EOF) {
    end({StreamEnd::Kind::kEof, 0, {}});
  } else if (err == UV_ECONNRESET) {
    end({StreamEnd::Kind::kReset, err, {}});
  } else {
    end({StreamEnd::Kind::kReadError, err, {}});
  }
}

void TcpStream::write(std::string bytes) {
  if (ended_) {
    return;
  }
  // A probe writes its request into an empty socket buffer: written at once, it needs no request
  // object. The rest, or everything when the kernel takes nothing now or reports an error (the
  // queued write then meets the same error, which the read side reports), is queued.
  uv_buf_t now = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
  const int written = uv_try_write(tcp_.stream(), &now, 1);
  if (written == static_cast<int>(bytes.size())) {
    return;
  }
  if (written > 0) {
    bytes.erase(0, static_cast<std::size_t>(written));
  }
  auto* w = new WriteRequest{{}, std::move(bytes)};
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  // Asynchronous write errors also show up on the read side (a reset), which tells more.
  int rc = uv_write(&w->req, tcp_.stream(), &buf, 1,
                    [](uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); });
  if (rc != 0) {
    delete w;
    end({StreamEnd::Kind::kWriteError, rc, {}});
  }
}

void TcpStream::end(const StreamEnd& how) {
  ended_ = true;
  uv_read_stop(tcp_.stream());
  if (receiver_ != nullptr) {
    receiver_->onStreamEnd(how);
  }
}

}  // namespace bhe
