// The web server over real loopback sockets: routing, the per-route concurrency lanes, the
// connection cap, the request deadline, IPv6. Waits are generous bounds, never timings.
#include "exporter/web_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <future>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bhe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kWaitMs = 10000;  // a bound for "eventually", far above what any step needs

class Client {
 public:
  explicit Client(int port, bool ipv6 = false) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    sockaddr_storage address{};
    socklen_t length = 0;
    if (ipv6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&address);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<std::uint16_t>(port));
      a->sin6_addr = in6addr_loopback;
      length = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&address);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<std::uint16_t>(port));
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof *a;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { ::close(fd_); }

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Everything until the server closes (or kWaitMs passes: `closed` stays false).
  struct Reply {
    std::string data;
    bool closed = false;
  };
  Reply readUntilClosed(int wait_ms = kWaitMs) {
    Reply reply;
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, wait_ms) == 1) {
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        reply.closed = true;
        break;
      }
      reply.data.append(buf, static_cast<std::size_t>(n));
    }
    return reply;
  }

  // Reads whatever arrives within wait_ms without waiting for the close.
  std::string readFor(int wait_ms) {
    std::string data;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) == 1) {
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        data.append(buf, static_cast<std::size_t>(n));
      }
    }
    return data;
  }

 private:
  int fd_ = -1;
};

std::string get(int port, const std::string& path, const std::string& method = "GET") {
  Client c(port);
  c.send(method + " " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
  return c.readUntilClosed().data;
}

HttpResponse text(std::string body) {
  return {200, "text/plain; charset=utf-8", std::move(body), {}};
}

class WebServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }  // as main does
};

TEST_F(WebServerTest, RoutesMethodsHeadAndErrors) {
  WebServer server;
  server.route("/hello", {"GET", "HEAD"}, [](const HttpRequest& r) {
    return text("hello " + (r.query.contains("name") ? r.query.at("name") : "") + "\n");
  });
  server.start("127.0.0.1:0");
  ASSERT_GT(server.port(), 0);

  std::string ok = get(server.port(), "/hello?name=a+b");
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ok, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_THAT(ok, HasSubstr("Cache-Control: no-store\r\nConnection: close\r\n"));
  EXPECT_THAT(ok, ::testing::EndsWith("\r\n\r\nhello a b\n"));

  std::string head = get(server.port(), "/hello", "HEAD");
  EXPECT_THAT(head, HasSubstr("Content-Length: 7\r\n"));
  EXPECT_THAT(head, ::testing::EndsWith("\r\n\r\n"));

  EXPECT_THAT(get(server.port(), "/nope"), HasSubstr("404 page not found: /nope\n"));
  std::string post = get(server.port(), "/hello", "POST");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(post, HasSubstr("Allow: GET, HEAD\r\n"));
  server.stop();
  server.stop();
}

TEST_F(WebServerTest, GateRunsBeforeEveryRoute) {
  WebServer server;
  server.route("/secret", {"GET"}, [](const HttpRequest&) { return text("secret\n"); });
  server.setGate([](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.headers.contains("authorization")) {
      return std::nullopt;
    }
    return HttpResponse{401, "text/plain", "no\n", {{"WWW-Authenticate", "Basic"}}};
  });
  server.start("127.0.0.1:0");
  EXPECT_THAT(get(server.port(), "/secret"), StartsWith("HTTP/1.1 401 Unauthorized\r\n"));
  Client c(server.port());
  c.send("GET /secret HTTP/1.1\r\nAuthorization: Basic x\r\n\r\n");
  EXPECT_THAT(c.readUntilClosed().data, StartsWith("HTTP/1.1 200 OK"));
}

// A capped route runs on threads of its own: while it is full, it answers 429 at once, and the
// shared route keeps answering even with a single shared thread.
TEST_F(WebServerTest, CappedRouteAnswers429AndNeverHoldsTheSharedThreads) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::latch both_running(2);
  WebServer server({.shared_handler_threads = 1});
  server.route("/slow", {"GET"},
               [&](const HttpRequest&) {
                 both_running.count_down();
                 released.wait();
                 return text("slow done\n");
               },
               {.max_concurrent = 2, .busy_text = "2 slow things are running\n"});
  server.route("/fast", {"GET"}, [](const HttpRequest&) { return text("fast\n"); });
  server.start("127.0.0.1:0");

  Client slow1(server.port());
  Client slow2(server.port());
  slow1.send("GET /slow HTTP/1.1\r\n\r\n");
  slow2.send("GET /slow HTTP/1.1\r\n\r\n");
  both_running.wait();

  std::string busy = get(server.port(), "/slow");
  EXPECT_THAT(busy, StartsWith("HTTP/1.1 429 Too Many Requests\r\n"));
  EXPECT_THAT(busy, HasSubstr("Retry-After: 1\r\n"));
  EXPECT_THAT(busy, ::testing::EndsWith("2 slow things are running\n"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(get(server.port(), "/fast"), ::testing::EndsWith("fast\n"));
  }

  release.set_value();
  EXPECT_THAT(slow1.readUntilClosed().data, ::testing::EndsWith("slow done\n"));
  EXPECT_THAT(slow2.readUntilClosed().data, ::testing::EndsWith("slow done\n"));
  // The slots are free again.
  EXPECT_THAT(get(server.port(), "/slow"), ::testing::EndsWith("slow done\n"));
}

TEST_F(WebServerTest, TheCapPushesOutTheOldestUnfinishedRequest) {
  WebServer server({.limits = {.max_connections = 3}});
  server.route("/", {"GET"}, [](const HttpRequest&) { return text("ok\n"); });
  server.start("127.0.0.1:0");

  Client oldest(server.port());
  oldest.send("GET / HT");  // started, never finished
  Client idle1(server.port());
  Client idle2(server.port());
  EXPECT_EQ(oldest.readFor(200), "");  // all three are held open

  EXPECT_THAT(get(server.port(), "/"), ::testing::EndsWith("ok\n"));
  auto pushed_out = oldest.readUntilClosed();
  EXPECT_TRUE(pushed_out.closed);
  EXPECT_EQ(pushed_out.data, "");
  // The next newcomer pushes out the next oldest.
  EXPECT_THAT(get(server.port(), "/"), ::testing::EndsWith("ok\n"));
  EXPECT_TRUE(idle1.readUntilClosed().closed);
}

TEST_F(WebServerTest, AtTheCapWithEveryConnectionBusyANewOneIsClosed) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::latch both_running(2);
  WebServer server({.limits = {.max_connections = 2}});
  server.route("/slow", {"GET"},
               [&](const HttpRequest&) {
                 both_running.count_down();
                 released.wait();
                 return text("done\n");
               },
               {.max_concurrent = 2});
  server.start("127.0.0.1:0");
  Client a(server.port());
  Client b(server.port());
  a.send("GET /slow HTTP/1.1\r\n\r\n");
  b.send("GET /slow HTTP/1.1\r\n\r\n");
  both_running.wait();

  Client refused(server.port());  // the kernel accepts; the server closes it
  auto reply = refused.readUntilClosed();
  EXPECT_TRUE(reply.closed);
  EXPECT_EQ(reply.data, "");

  release.set_value();
  EXPECT_THAT(a.readUntilClosed().data, ::testing::EndsWith("done\n"));
  EXPECT_THAT(b.readUntilClosed().data, ::testing::EndsWith("done\n"));
}

TEST_F(WebServerTest, RequestDeadlineClosesIdleAndAnswersSlowClients408) {
  WebServer server({.limits = {.request_deadline = std::chrono::milliseconds(200)}});
  server.route("/", {"GET"}, [](const HttpRequest&) { return text("ok\n"); });
  server.start("127.0.0.1:0");

  Client idle(server.port());
  auto silent = idle.readUntilClosed();
  EXPECT_TRUE(silent.closed);
  EXPECT_EQ(silent.data, "");

  Client slow(server.port());
  slow.send("GET / HTTP/1.1\r\nHost:");
  auto late = slow.readUntilClosed();
  EXPECT_TRUE(late.closed);
  EXPECT_THAT(late.data, StartsWith("HTTP/1.1 408 Request Timeout\r\n"));
  EXPECT_THAT(late.data, HasSubstr("did not arrive within 200 ms"));
}

TEST_F(WebServerTest, LimitsAndMalformedRequestsAreAnswered) {
  WebServer server({.limits = {.request = {.max_head_bytes = 1024, .max_body_bytes = 100}}});
  server.route("/", {"GET", "POST"}, [](const HttpRequest& r) { return text(r.body); });
  server.start("127.0.0.1:0");

  Client big_body(server.port());
  big_body.send("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'x'));
  EXPECT_THAT(big_body.readUntilClosed().data, StartsWith("HTTP/1.1 413 Payload Too Large\r\n"));

  Client big_head(server.port());
  big_head.send("GET / HTTP/1.1\r\nX: " + std::string(2000, 'y') + "\r\n\r\n");
  EXPECT_THAT(big_head.readUntilClosed().data,
              StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));

  Client garbage(server.port());
  garbage.send("\x16\x03\x01 hello");
  EXPECT_THAT(garbage.readUntilClosed().data, StartsWith("HTTP/1.1 400 Bad Request\r\n"));

  Client body(server.port());
  body.send("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
  EXPECT_THAT(body.readUntilClosed().data, ::testing::EndsWith("\r\n\r\nbody"));
}

TEST_F(WebServerTest, InvitesTheBodyWith100Continue) {
  WebServer server;
  server.route("/", {"POST"}, [](const HttpRequest& r) { return text("got " + r.body); });
  server.start("127.0.0.1:0");
  Client c(server.port());
  c.send("POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.readFor(kWaitMs), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("abc");
  EXPECT_THAT(c.readUntilClosed().data, ::testing::EndsWith("got abc"));
}

TEST_F(WebServerTest, WritesLargeBodiesCompletely) {
  const std::string big(8 * 1024 * 1024, 'm');  // outlives the server's handler threads
  WebServer server;
  server.route("/big", {"GET"}, [&](const HttpRequest&) { return text(big); });
  server.start("127.0.0.1:0");
  std::string reply = get(server.port(), "/big");
  auto body_at = reply.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(reply.size() - body_at - 4, big.size());
}

// A body of `pieces` runs of `piece_bytes` letters, made on demand; `made` counts the bytes made.
class LetterStream final : public BodyStream {
 public:
  LetterStream(int pieces, std::size_t piece_bytes, std::atomic<std::size_t>& made)
      : pieces_(pieces), piece_bytes_(piece_bytes), made_(made) {}
  static std::string whole(int pieces, std::size_t piece_bytes) {
    std::string body;
    for (int i = 0; i < pieces; ++i) {
      body.append(piece_bytes, static_cast<char>('a' + i % 26));
    }
    return body;
  }
  bool next(std::string& out, std::size_t until) override {
    while (out.size() < until && next_ < pieces_) {
      out.append(piece_bytes_, static_cast<char>('a' + next_ % 26));
      made_ += piece_bytes_;
      ++next_;
    }
    return next_ < pieces_;
  }

 private:
  int pieces_;
  std::size_t piece_bytes_;
  std::atomic<std::size_t>& made_;
  int next_ = 0;
};

// The body of a chunked message (after its head); `complete` once the last chunk was seen.
std::string dechunk(std::string_view data, bool& complete) {
  std::string body;
  complete = false;
  while (true) {
    const auto line_end = data.find("\r\n");
    if (line_end == std::string_view::npos) {
      return body;
    }
    const std::size_t size = std::stoul(std::string(data.substr(0, line_end)), nullptr, 16);
    if (size == 0) {
      complete = data.substr(line_end) == "\r\n\r\n";
      return body;
    }
    if (data.size() < line_end + 2 + size + 2) {
      return body;
    }
    body += data.substr(line_end + 2, size);
    data.remove_prefix(line_end + 2 + size + 2);
  }
}

TEST_F(WebServerTest, StreamsABodyChunkedToHttp11WholeToHttp10AndNotAtAllToHead) {
  std::atomic<std::size_t> made{0};
  WebServer server;
  server.route("/stream", {"GET", "HEAD"}, [&](const HttpRequest&) {
    HttpResponse response = text("");
    response.body_stream = std::make_shared<LetterStream>(40, 10000, made);
    return response;
  });
  server.start("127.0.0.1:0");
  const std::string expected = LetterStream::whole(40, 10000);  // more than one piece

  std::string reply = get(server.port(), "/stream");
  const auto body_at = reply.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  const std::string head = reply.substr(0, body_at + 4);
  EXPECT_THAT(head, HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("Content-Length")));
  bool complete = false;
  EXPECT_EQ(dechunk(std::string_view(reply).substr(body_at + 4), complete), expected);
  EXPECT_TRUE(complete) << "the last chunk ends the body";

  Client old(server.port());
  old.send("GET /stream HTTP/1.0\r\n\r\n");
  reply = old.readUntilClosed().data;
  EXPECT_THAT(reply, HasSubstr("\r\nContent-Length: 400000\r\n"));
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), expected);

  made = 0;
  reply = get(server.port(), "/stream", "HEAD");
  EXPECT_THAT(reply, HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_EQ(reply.size(), reply.find("\r\n\r\n") + 4) << "no body for HEAD";
  EXPECT_EQ(made.load(), 0u) << "nothing made for HEAD";
}

TEST_F(WebServerTest, AClientThatDoesNotReadHoldsAPieceOfAStreamedBodyNotAllOfIt) {
  std::atomic<std::size_t> made{0};
  constexpr int kPieces = 1024;
  constexpr std::size_t kPieceBytes = 64 * 1024;  // 64 MiB in all
  WebServer server;
  server.route("/stream", {"GET"}, [&](const HttpRequest&) {
    HttpResponse response = text("");
    response.body_stream = std::make_shared<LetterStream>(kPieces, kPieceBytes, made);
    return response;
  });
  server.start("127.0.0.1:0");
  Client slow(server.port());
  slow.send("GET /stream HTTP/1.1\r\n\r\n");
  // The socket buffers fill and the making stops: wait until it has stood still for a while.
  std::size_t before = 0;
  for (int i = 0; i < kWaitMs / 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::size_t now = made.load();
    if (now > 0 && now == before) {
      break;
    }
    before = now;
  }
  EXPECT_GT(made.load(), 0u);
  // Loopback's socket buffers take a few MiB (tcp_wmem and tcp_rmem maxima, 4 and 6 MiB by
  // default); the server holds one piece beyond them.
  EXPECT_LT(made.load(), 24u * 1024 * 1024) << "the body was made ahead of the client";
  Client::Reply reply = slow.readUntilClosed();
  ASSERT_TRUE(reply.closed);
  bool complete = false;
  const std::string body =
      dechunk(std::string_view(reply.data).substr(reply.data.find("\r\n\r\n") + 4), complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(body.size(), kPieces * kPieceBytes);
  EXPECT_EQ(body, LetterStream::whole(kPieces, kPieceBytes));
}

TEST_F(WebServerTest, ClientsThatLeaveEarlyDoNotHurt) {
  const std::string big(4 * 1024 * 1024, 'm');  // outlives the server's handler threads
  WebServer server;
  server.route("/big", {"GET"}, [&](const HttpRequest&) { return text(big); });
  server.route("/", {"GET"}, [](const HttpRequest&) { return text("ok\n"); });
  server.start("127.0.0.1:0");
  for (int i = 0; i < 20; ++i) {
    Client c(server.port());
    c.send("GET /big HTTP/1.1\r\n\r\n");
  }  // closed before (or while) the response is written
  EXPECT_THAT(get(server.port(), "/"), ::testing::EndsWith("ok\n"));
}

TEST_F(WebServerTest, ListensOnIpv6AndDualStack) {
  WebServer v6;
  v6.route("/", {"GET"}, [](const HttpRequest& r) { return text(r.remote_address + "\n"); });
  v6.start("[::1]:0");
  Client c(v6.port(), true);
  c.send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_THAT(c.readUntilClosed().data, ::testing::EndsWith("\r\n\r\n::1\n"));

  WebServer any;
  any.route("/", {"GET"}, [](const HttpRequest& r) { return text(r.remote_address + "\n"); });
  any.start(":0");
  EXPECT_THAT(get(any.port(), "/"), ::testing::EndsWith("\r\n\r\n127.0.0.1\n"));
  Client six(any.port(), true);
  six.send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_THAT(six.readUntilClosed().data, ::testing::EndsWith("\r\n\r\n::1\n"));
}

TEST_F(WebServerTest, BadListenAddressesAreExplained) {
  auto error = [](const std::string& address) {
    WebServer server;
    try {
      server.start(address);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("localhost:9985"), HasSubstr("the host must be an IP address"));
  EXPECT_THAT(error("127.0.0.1"), HasSubstr("must be HOST:PORT, [IPV6]:PORT or :PORT"));
  EXPECT_THAT(error(":99999"), HasSubstr("must be HOST:PORT"));
  EXPECT_THAT(error("192.0.2.1:9985"), HasSubstr("cannot listen on 192.0.2.1:9985"));

  WebServer taken;
  taken.start("127.0.0.1:0");
  EXPECT_THAT(error("127.0.0.1:" + std::to_string(taken.port())),
              HasSubstr("address already in use"));
}

TEST_F(WebServerTest, StopWaitsForRunningHandlers) {
  std::atomic<bool> finished{false};
  std::latch running(1);
  WebServer server;
  server.route("/", {"GET"}, [&](const HttpRequest&) {
    running.count_down();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    finished = true;
    return text("late\n");
  });
  server.start("127.0.0.1:0");
  Client c(server.port());
  c.send("GET / HTTP/1.1\r\n\r\n");
  running.wait();
  server.stop();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(c.readUntilClosed().closed);  // the answer had nowhere to go
}

}  // namespace
}  // namespace bhe
