// TcpStream against a real loopback peer: what it writes arrives whole and in order, both a
// request the kernel takes at once and one far larger than the socket buffer (written in part at
// once, the rest queued), and what the peer sends back reaches the receiver, also what it sent
// before the receiver was named; the connection opens with the first write and closes with a
// reset.
#include "probe/connect/tcp_stream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

namespace bhe {
namespace {

// How the client's close looked from the peer: its next read after the reply.
enum class ClientClose { kNotSeen, kFin, kReset };

// A socket listening on 127.0.0.1 at a port of the kernel's choosing, which goes to `port`.
int listenOnLoopback(int& port) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return listener;
}

// Connects `stream` to 127.0.0.1:port and runs `loop` until the connect has an outcome: 0 when
// connected, else the libuv error.
int connectOnLoop(TcpStream& stream, uv_loop_t* loop, int port) {
  int connected = 1;
  const int rc = stream.connect("127.0.0.1", port, [&](int status) { connected = status; });
  if (rc != 0) {
    return rc;
  }
  while (connected == 1 && uv_run(loop, UV_RUN_ONCE) != 0) {
  }
  return connected;
}

// A listener on 127.0.0.1 that accepts one connection, waits a little (so that a large write
// fills the client's socket buffer), reads `expect` bytes, answers `reply`, and then closes, or,
// with `wait_for_client`, first reads on until the client closes and notes how it did.
class Peer {
 public:
  Peer(std::size_t expect, std::string reply, bool wait_for_client = false)
      : expect_(expect), reply_(std::move(reply)), wait_for_client_(wait_for_client) {
    listener_ = listenOnLoopback(port_);
    limitWaits(listener_);  // accept() too: a client that never comes fails the test, no hang
    thread_ = std::thread([this] { serve(); });
  }
  ~Peer() {
    finish();
    ::close(listener_);
  }
  int port() const { return port_; }
  // What it read, and how the client's close looked (with `wait_for_client`); both wait until
  // the peer is done.
  std::string received() {
    finish();
    return received_;
  }
  ClientClose clientClose() {
    finish();
    return client_close_;
  }

 private:
  void finish() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  static void limitWaits(int fd) {
    timeval ten_seconds{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  }

  void serve() {
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) {
      return;
    }
    limitWaits(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    char buf[16384];
    while (received_.size() < expect_) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      received_.append(buf, static_cast<std::size_t>(n));
    }
    (void)!::write(fd, reply_.data(), reply_.size());
    if (wait_for_client_) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      client_close_ = n == 0                         ? ClientClose::kFin
                      : n < 0 && errno == ECONNRESET ? ClientClose::kReset
                                                     : ClientClose::kNotSeen;
    }
    ::close(fd);
  }

  std::size_t expect_;
  std::string reply_;
  bool wait_for_client_;
  ClientClose client_close_ = ClientClose::kNotSeen;
  int listener_ = -1;
  int port_ = 0;
  std::string received_;
  std::thread thread_;
};

class Collect final : public StreamReceiver {
 public:
  void onStreamData(std::string_view bytes) override { data.append(bytes); }
  void onStreamEnd(const StreamEnd& how) override { end = how.kind; }
  std::string data;
  std::optional<StreamEnd::Kind> end;
};

struct Exchange {
  std::string peer_received;
  std::string client_received;
  std::optional<StreamEnd::Kind> client_end;
  ClientClose peer_saw = ClientClose::kNotSeen;
};

// Connects to a fresh peer, writes `payload`, and runs the loop until the peer has answered and
// closed, or, for a peer that waits for the client, until the whole reply is in; then closes.
Exchange roundTrip(const std::string& payload, const std::string& reply,
                   bool peer_waits_for_client = false) {
  Exchange out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  Peer peer(payload.size(), reply, peer_waits_for_client);
  Collect collect;
  const std::size_t enough = peer_waits_for_client ? reply.size() : SIZE_MAX;
  {
    TcpStream stream(&loop);
    const int connected = connectOnLoop(stream, &loop, peer.port());
    EXPECT_EQ(connected, 0);
    if (connected == 0) {
      stream.read(&collect);
      stream.write(payload);
      while (!collect.end && collect.data.size() < enough && uv_run(&loop, UV_RUN_ONCE) != 0) {
      }
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the handle's close
  uv_loop_close(&loop);
  out.peer_received = peer.received();
  out.peer_saw = peer.clientClose();
  out.client_received = collect.data;
  out.client_end = collect.end;
  return out;
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  }
  return s;
}

class TcpStreamTest : public ::testing::Test {
 protected:
  // A peer that gives up early must fail the test, not kill it with the client's next write.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }  // as main does
};

TEST_F(TcpStreamTest, ASmallWriteArrivesWholeAndTheReplyIsRead) {
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  Exchange e = roundTrip(request, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(e.peer_received, request);
  EXPECT_EQ(e.client_received, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(e.client_end, StreamEnd::Kind::kEof);
}

TEST_F(TcpStreamTest, AWriteLargerThanTheSocketBufferArrivesWholeAndInOrder) {
  // Far more than loopback's socket buffers hold while the peer is not reading: the kernel takes
  // a part at once, the rest waits in libuv's queue.
  const std::string payload = pattern(16 * 1024 * 1024);
  Exchange e = roundTrip(payload, "ok");
  EXPECT_EQ(e.peer_received.size(), payload.size());
  EXPECT_TRUE(e.peer_received == payload);
  EXPECT_EQ(e.client_received, "ok");
}

TEST_F(TcpStreamTest, AStreamIsClosedWithAResetSoThatNeitherSideKeepsTheConnectionInTimeWait) {
  // The peer answers and keeps the connection open, as a keep-alive server does: an orderly close
  // would reach it as end of file (and leave the client's side in TIME_WAIT).
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  Exchange e = roundTrip(request, reply, /*peer_waits_for_client=*/true);
  EXPECT_EQ(e.peer_received, request);
  EXPECT_EQ(e.client_received, reply);
  EXPECT_EQ(e.peer_saw, ClientClose::kReset);
}

TEST_F(TcpStreamTest, TheHandshakesLastAckTravelsWithTheFirstWriteSoThePeerSeesBothAtOnce) {
  // A listener's accept queue fills when the handshake's last ACK arrives. Held for the request,
  // the ACK comes with it: connected on the client's side, nothing to accept yet on the peer's;
  // once written, the connection and its request are there together.
  int port = 0;
  const int listener = listenOnLoopback(port);

  uv_loop_t loop;
  uv_loop_init(&loop);
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string peer_read;
  {
    TcpStream stream(&loop);
    ASSERT_EQ(connectOnLoop(stream, &loop, port), 0);
    const auto connected_at = std::chrono::steady_clock::now();
    pollfd incoming{listener, POLLIN, 0};
    const int ready_before_write = ::poll(&incoming, 1, 20);
    // The kernel sends a held ACK on its own after 200 ms: a test thread starved that long
    // cannot tell.
    if (std::chrono::steady_clock::now() - connected_at < std::chrono::milliseconds(150)) {
      EXPECT_EQ(ready_before_write, 0) << "the peer could accept before the client wrote";
    }
    stream.write(request);
    ASSERT_EQ(::poll(&incoming, 1, 10000), 1);
    const int fd = ::accept(listener, nullptr, nullptr);
    ASSERT_GE(fd, 0);
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);  // already there
    if (n > 0) {
      peer_read.assign(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  ::close(listener);
  EXPECT_EQ(peer_read, request);
}

TEST_F(TcpStreamTest, WhatThePeerSendsBeforeTheReceiverIsNamedIsDeliveredToIt) {
  // Reading is armed with the connect, before anyone reads: bytes and the end of a peer that
  // speaks first must wait in the socket for read(), not be taken and lost. The peer can accept
  // once the kernel sends the held ACK on its own (200 ms, TCP_DEFER_ACCEPT); it greets, closes.
  int port = 0;
  const int listener = listenOnLoopback(port);
  const std::string greeting = "220 hello, I speak first\r\n";
  std::thread peer([&] {
    pollfd incoming{listener, POLLIN, 0};
    if (::poll(&incoming, 1, 10000) == 1) {
      const int fd = ::accept(listener, nullptr, nullptr);
      (void)!::write(fd, greeting.data(), greeting.size());
      ::close(fd);
    }
  });

  uv_loop_t loop;
  uv_loop_init(&loop);
  Collect collect;
  {
    TcpStream stream(&loop);
    ASSERT_EQ(connectOnLoop(stream, &loop, port), 0);
    peer.join();      // greeted and closed: both are waiting at the client
    uv_timer_t turn;  // the loop runs a while with the socket readable and no receiver
    uv_timer_init(&loop, &turn);
    uv_timer_start(
        &turn, [](uv_timer_t*) {}, 50, 0);
    uv_run(&loop, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&turn), nullptr);
    EXPECT_TRUE(collect.data.empty());
    stream.read(&collect);
    while (!collect.end && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  ::close(listener);
  EXPECT_EQ(collect.data, greeting);
  EXPECT_EQ(collect.end, StreamEnd::Kind::kEof);
}

}  // namespace
}  // namespace bhe
