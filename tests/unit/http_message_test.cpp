#include "exporter/http_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bhe {
namespace {

using Progress = HttpRequestParser::Progress;
using ::testing::HasSubstr;

TEST(UrlDecode, DecodesPercentAndPlusOnlyWhereAsked) {
  EXPECT_EQ(urlDecode("a%20b%2Fc%2f", false), "a b/c/");
  EXPECT_EQ(urlDecode("a+b", false), "a+b");
  EXPECT_EQ(urlDecode("a+b", true), "a b");
  EXPECT_EQ(urlDecode("%41%4a%4A", true), "AJJ");
}

TEST(UrlDecode, KeepsBrokenEscapes) {
  EXPECT_EQ(urlDecode("%", true), "%");
  EXPECT_EQ(urlDecode("%4", true), "%4");
  EXPECT_EQ(urlDecode("%zz%4g", true), "%zz%4g");
  EXPECT_EQ(urlDecode("100%", true), "100%");
  EXPECT_EQ(urlDecode("%%41", true), "%A");
}

TEST(UrlDecode, DecodesNulAndHighBytes) {
  EXPECT_EQ(urlDecode("%00%ff", true), std::string("\0\xff", 2));
}

TEST(ParseQuery, SplitsDecodesAndKeepsTheFirstValue) {
  auto q = parseQuery("pool=a+b&settings=s%26t&server=10.0.0.1&debug&pool=other&=x&&");
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q["pool"], "a b");
  EXPECT_EQ(q["settings"], "s&t");
  EXPECT_EQ(q["server"], "10.0.0.1");
  EXPECT_EQ(q["debug"], "");
}

TEST(ParseQuery, EmptyAndOddInputs) {
  EXPECT_TRUE(parseQuery("").empty());
  EXPECT_TRUE(parseQuery("&&&").empty());
  EXPECT_EQ(parseQuery("a==b")["a"], "=b");
  EXPECT_EQ(parseQuery("%3D=%3D")["="], "=");
}

TEST(RequestParser, ParsesAGetRequest) {
  HttpRequestParser parser;
  EXPECT_FALSE(parser.started());
  ASSERT_EQ(parser.feed("GET /pro%62e?pool=p+1&server=x HTTP/1.1\r\nHost: h\r\n"
                        "User-Agent: Prometheus/2.42  \r\nX-Dup: first\r\nx-dup: second\r\n\r\n"),
            Progress::kComplete);
  HttpRequest r = parser.takeRequest();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/probe");
  EXPECT_EQ(r.query.at("pool"), "p 1");
  EXPECT_EQ(r.query.at("server"), "x");
  EXPECT_EQ(r.headers.at("host"), "h");
  EXPECT_EQ(r.headers.at("user-agent"), "Prometheus/2.42");
  EXPECT_EQ(r.headers.at("x-dup"), "first");
  EXPECT_TRUE(r.body.empty());
}

TEST(RequestParser, AcceptsOneByteAtATime) {
  const std::string request =
      "POST /-/reload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Long-Name: some value\r\n"
      "\r\nhello";
  HttpRequestParser parser;
  for (std::size_t i = 0; i + 1 < request.size(); ++i) {
    ASSERT_EQ(parser.feed(request.substr(i, 1)), Progress::kNeedMore) << i;
    EXPECT_TRUE(parser.started());
  }
  ASSERT_EQ(parser.feed(request.substr(request.size() - 1)), Progress::kComplete);
  HttpRequest r = parser.takeRequest();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.headers.at("x-long-name"), "some value");
  EXPECT_EQ(r.body, "hello");
}

TEST(RequestParser, ReadsChunkedBodies) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"),
            Progress::kComplete);
  HttpRequest r = parser.takeRequest();
  EXPECT_EQ(r.body, "abcde");
  EXPECT_FALSE(r.headers.contains("trailer"));
}

TEST(RequestParser, IgnoresWhatFollowsTheFirstRequest) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), Progress::kComplete);
  EXPECT_EQ(parser.feed("garbage"), Progress::kComplete);
  EXPECT_EQ(parser.takeRequest().path, "/a");
}

TEST(RequestParser, AbsoluteFormAndHttp10) {
  HttpRequestParser absolute;
  ASSERT_EQ(absolute.feed("GET http://exporter:9985/metrics?x=1 HTTP/1.1\r\n\r\n"),
            Progress::kComplete);
  HttpRequest r = absolute.takeRequest();
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(r.query.at("x"), "1");

  HttpRequestParser no_path;
  ASSERT_EQ(no_path.feed("GET http://exporter HTTP/1.1\r\n\r\n"), Progress::kComplete);
  EXPECT_EQ(no_path.takeRequest().path, "/");

  HttpRequestParser old;
  ASSERT_EQ(old.feed("HEAD / HTTP/1.0\r\n\r\n"), Progress::kComplete);
  EXPECT_EQ(old.takeRequest().method, "HEAD");
}

TEST(RequestParser, RejectsWhatIsNotHttp) {
  HttpRequestParser tls;
  EXPECT_EQ(tls.feed(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)),
            Progress::kInvalid);
  EXPECT_EQ(tls.errorStatus(), 400);
  EXPECT_THAT(tls.errorText(), HasSubstr("bad request"));

  HttpRequestParser star;
  EXPECT_EQ(star.feed("OPTIONS * HTTP/1.1\r\n\r\n"), Progress::kInvalid);
  EXPECT_EQ(star.errorStatus(), 400);

  HttpRequestParser h2;
  EXPECT_EQ(h2.feed("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Progress::kInvalid);
  EXPECT_THAT(h2.errorStatus(), ::testing::AnyOf(400, 505));

  HttpRequestParser version;
  EXPECT_EQ(version.feed("GET / HTTP/2.0\r\n\r\n"), Progress::kInvalid);
  EXPECT_EQ(version.errorStatus(), 505);

  HttpRequestParser bad_length;
  EXPECT_EQ(bad_length.feed("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Progress::kInvalid);
  EXPECT_EQ(bad_length.errorStatus(), 400);

  HttpRequestParser stays;
  EXPECT_EQ(stays.feed("\x01"), Progress::kInvalid);
  EXPECT_EQ(stays.feed("GET / HTTP/1.1\r\n\r\n"), Progress::kInvalid);
}

TEST(RequestParser, BoundsTheHead) {
  HttpRequestLimits limits{.max_head_bytes = 100, .max_body_bytes = 10};
  HttpRequestParser url(limits);
  EXPECT_EQ(url.feed("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n"), Progress::kInvalid);
  EXPECT_EQ(url.errorStatus(), 431);

  HttpRequestParser value(limits);
  EXPECT_EQ(value.feed("GET / HTTP/1.1\r\nX: " + std::string(200, 'b')), Progress::kInvalid);
  EXPECT_EQ(value.errorStatus(), 431);

  // Many small headers add up, separators included.
  HttpRequestParser many(limits);
  std::string headers = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 30; ++i) {
    headers += "a: b\r\n";
  }
  EXPECT_EQ(many.feed(headers), Progress::kInvalid);
  EXPECT_EQ(many.errorStatus(), 431);

  HttpRequestParser fits(limits);
  EXPECT_EQ(fits.feed("GET /" + std::string(50, 'a') + " HTTP/1.1\r\nX: y\r\n\r\n"),
            Progress::kComplete);
}

TEST(RequestParser, BoundsTheBody) {
  HttpRequestLimits limits{.max_head_bytes = 1000, .max_body_bytes = 10};
  HttpRequestParser announced(limits);
  EXPECT_EQ(announced.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), Progress::kInvalid);
  EXPECT_EQ(announced.errorStatus(), 413);
  EXPECT_THAT(announced.errorText(), HasSubstr("limit 10 bytes"));

  HttpRequestParser chunked(limits);
  EXPECT_EQ(chunked.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "6\r\n123456\r\n"),
            Progress::kNeedMore);
  EXPECT_EQ(chunked.feed("6\r\n123456\r\n"), Progress::kInvalid);
  EXPECT_EQ(chunked.errorStatus(), 413);

  HttpRequestParser exact(limits);
  EXPECT_EQ(exact.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"),
            Progress::kComplete);
}

TEST(RequestParser, ReportsExpectContinueOnce) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("POST /-/reload HTTP/1.1\r\nContent-Length: 3\r\n"
                        "Expect: 100-Continue\r\n\r\n"),
            Progress::kNeedMore);
  EXPECT_TRUE(parser.takeContinueExpected());
  EXPECT_FALSE(parser.takeContinueExpected());
  EXPECT_EQ(parser.feed("abc"), Progress::kComplete);

  HttpRequestParser no_body;
  ASSERT_EQ(no_body.feed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"), Progress::kComplete);
  EXPECT_FALSE(no_body.takeContinueExpected());

  // A body already sent with the headers needs no invitation.
  HttpRequestParser eager;
  ASSERT_EQ(eager.feed("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx"),
            Progress::kComplete);
  EXPECT_FALSE(eager.takeContinueExpected());
}

TEST(ResponseHead, FormatsStatusHeadersAndLength) {
  HttpResponse response{429, "text/plain; charset=utf-8", "busy\n", {{"Retry-After", "1"}}};
  EXPECT_EQ(responseHead(response, response.body.size()),
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\nCache-Control: no-store\r\nConnection: close\r\n"
            "Retry-After: 1\r\n\r\n");
  HttpResponse ok{200, "application/json", "{}", {}};
  EXPECT_THAT(responseHead(ok, 2), HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(responseHead({431, "text/plain", "", {}}, 0),
              HasSubstr("431 Request Header Fields Too Large"));
  EXPECT_THAT(responseHead({408, "text/plain", "", {}}, 0), HasSubstr("408 Request Timeout"));
}

}  // namespace
}  // namespace bhe
