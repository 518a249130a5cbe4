#include "probe/http/http_exchange.h"

#include "common/version.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

using Progress = HttpResponseParser::Progress;

TEST(HttpRequest, CarriesHostUserAgentAndClose) {
  std::string r = buildProbeRequest("/healthz?x=1", "api.example.com:8080");
  EXPECT_EQ(r.rfind("GET /healthz?x=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(r.find("\r\nHost: api.example.com:8080\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nUser-Agent: backend-health-exporter/" + std::string(kBheVersion)),
            std::string::npos);
  EXPECT_NE(r.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
}

TEST(HttpResponse, ContentLengthBodyByteByByte) {
  HttpResponseParser p(1024, HttpResponseParser::KeepHeaders::kYes);
  std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    ASSERT_EQ(p.feed(wire.substr(i, 1)), Progress::kNeedMore) << i;
  }
  EXPECT_EQ(p.feed(wire.substr(wire.size() - 1)), Progress::kComplete);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "hello");
  ASSERT_EQ(p.headers().size(), 2u);
  EXPECT_EQ(p.headers()[1].first, "X-A");
  EXPECT_EQ(p.headers()[1].second, "b");
}

TEST(HttpResponse, HeadersAreKeptOnlyWhenAsked) {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nok";
  HttpResponseParser plain(1024);
  EXPECT_EQ(plain.feed(wire), Progress::kComplete);
  EXPECT_EQ(plain.body(), "ok");  // Content-Length still framed the body
  EXPECT_TRUE(plain.headers().empty());
  HttpResponseParser kept(1024, HttpResponseParser::KeepHeaders::kYes);
  EXPECT_EQ(kept.feed(wire), Progress::kComplete);
  ASSERT_EQ(kept.headers().size(), 2u);
  EXPECT_EQ(kept.headers()[1].first, "Server");
}

TEST(HttpResponse, ChunkedBody) {
  HttpResponseParser p(1024);
  EXPECT_EQ(p.feed("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n"),
            Progress::kComplete);
  EXPECT_EQ(p.status(), 503);
  EXPECT_EQ(p.body(), "Wikipedia");
}

TEST(HttpResponse, KeepsAtMostMaxBodyBytesAndStopsThere) {
  HttpResponseParser p(4);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabcdefgh"),
            Progress::kComplete);
  EXPECT_EQ(p.body(), "abcd");
  EXPECT_EQ(p.bodyBytesSeen(), 8u);
}

TEST(HttpResponse, ZeroBodyLimitCompletesAtHeaders) {
  HttpResponseParser p(0);
  EXPECT_EQ(p.feed("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"), Progress::kComplete);
  EXPECT_EQ(p.status(), 204);
}

TEST(HttpResponse, ReadUntilCloseBodyCompletesAtEof) {
  HttpResponseParser p(1024);
  EXPECT_EQ(p.feed("HTTP/1.0 200 OK\r\n\r\nbody"), Progress::kNeedMore);
  EXPECT_EQ(p.finishAtEof(), Progress::kComplete);
  EXPECT_EQ(p.body(), "body");
}

TEST(HttpResponse, EofBeforeCompleteMessageIsNotComplete) {
  HttpResponseParser p(1024);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), Progress::kNeedMore);
  EXPECT_EQ(p.finishAtEof(), Progress::kNeedMore);
  HttpResponseParser q(1024);
  EXPECT_EQ(q.finishAtEof(), Progress::kNeedMore);  // nothing at all
}

TEST(HttpResponse, GarbageIsInvalid) {
  HttpResponseParser p(1024);
  EXPECT_EQ(p.feed("SSH-2.0-OpenSSH_9.2\r\n"), Progress::kInvalid);
  EXPECT_NE(p.error().find("HPE_"), std::string::npos);
}

TEST(HttpResponse, HugeHeadersAreRejectedNotBuffered) {
  HttpResponseParser p(1024);
  p.feed("HTTP/1.1 200 OK\r\nX-Big: ");
  Progress last = Progress::kNeedMore;
  std::string chunk(4096, 'a');
  for (int i = 0; i < 64 && last == Progress::kNeedMore; ++i) {
    last = p.feed(chunk);
  }
  EXPECT_EQ(last, Progress::kInvalid);
  EXPECT_NE(p.error().find("HPE_HEADER_OVERFLOW"), std::string::npos);
}

TEST(HttpResponse, BytesAfterTheFirstResponseAreIgnored) {
  HttpResponseParser p(1024);
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 X\r\n\r\n"),
            Progress::kComplete);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "ok");
}

}  // namespace
}  // namespace bhe
