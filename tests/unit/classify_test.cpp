#include "probe/classify/classify.h"

#include <ares.h>
#include <gtest/gtest.h>
#include <uv.h>

namespace bhe {
namespace {

TEST(Classify, DnsAuthoritativeAnswersVersusUnreachableResolvers) {
  EXPECT_EQ(classifyDnsFailure(ARES_ENOTFOUND, "nx.test", "127.0.0.1:53").reason,
            Reason::kDnsResolutionError);
  EXPECT_EQ(classifyDnsFailure(ARES_ENODATA, "v6only.test", "").reason,
            Reason::kDnsResolutionError);
  for (int status : {ARES_ESERVFAIL, ARES_EREFUSED, ARES_ETIMEOUT, ARES_ECONNREFUSED}) {
    EXPECT_EQ(classifyDnsFailure(status, "a.test", "").reason, Reason::kDnsServerUnreachable)
        << status;
  }
  auto f = classifyDnsFailure(ARES_ENOTFOUND, "nx.test", "127.0.0.1:5353");
  EXPECT_EQ(f.details,
            "Lookup of nx.test via 127.0.0.1:5353: NXDOMAIN (the name does not exist) [Domain "
            "name not found]");
  EXPECT_NE(classifyDnsFailure(ARES_ESERVFAIL, "a.test", "").details.find("the system resolvers"),
            std::string::npos);
}

TEST(Classify, ConnectErrors) {
  EXPECT_EQ(classifyConnectFailure(UV_ECONNREFUSED, "127.0.0.1:9").reason,
            Reason::kTcpConnectError);
  EXPECT_EQ(classifyConnectFailure(UV_ECONNRESET, "x").reason, Reason::kTcpConnectError);
  EXPECT_EQ(classifyConnectFailure(UV_ETIMEDOUT, "x").reason, Reason::kTcpConnectError);
  EXPECT_EQ(classifyConnectFailure(UV_ENETUNREACH, "x").reason, Reason::kNetworkUnreachable);
  EXPECT_EQ(classifyConnectFailure(UV_EHOSTUNREACH, "x").reason, Reason::kNetworkUnreachable);
  EXPECT_EQ(classifyConnectFailure(UV_ECONNREFUSED, "127.0.0.1:9").details,
            "Connect to 127.0.0.1:9 failed: connection refused (ECONNREFUSED)");
}

TEST(Classify, TimeoutDependsOnThePhase) {
  EXPECT_EQ(classifyTimeout(ProbePhase::kDns, "2s", "").reason, Reason::kDnsServerUnreachable);
  EXPECT_EQ(classifyTimeout(ProbePhase::kConnect, "2s", "x").reason, Reason::kTcpConnectError);
  EXPECT_EQ(classifyTimeout(ProbePhase::kTls, "2s", "x").reason, Reason::kBackendTimeout);
  EXPECT_EQ(classifyTimeout(ProbePhase::kHttp, "2s", "x").reason, Reason::kBackendTimeout);
  EXPECT_EQ(classifyTimeout(ProbePhase::kHttp, "2s", "x").details,
            "No complete HTTP response within the probe timeout (2s)");
}

TEST(Classify, StatusIsJudgedBeforeBody) {
  ProbeMatch match{{{200, 399}}, std::string("OK")};
  auto f = classifyResponse(404, "OK", match);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->reason, Reason::kHttpStatusMismatch);
  EXPECT_EQ(f->details, "Expected:200-399 Received:404");
  f = classifyResponse(200, "nope", match);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->reason, Reason::kHttpBodyMismatch);
  EXPECT_EQ(f->details, "Received response body doesn't contain \"OK\" (searched 4 bytes)");
  EXPECT_FALSE(classifyResponse(302, "all OK here", match));
}

TEST(Classify, StatusRangesFormatLikeAzure) {
  EXPECT_EQ(formatStatusRanges({{200, 399}, {404, 404}}), "200-399,404");
}

TEST(Classify, BrokenAndInvalidResponses) {
  auto f = classifyBrokenResponse("Connection closed by the backend", 12);
  EXPECT_EQ(f.reason, Reason::kHttpInvalidResponse);
  EXPECT_EQ(f.details,
            "Connection closed by the backend after 12 bytes, before a complete HTTP response");
  EXPECT_EQ(classifyInvalidResponse("HPE_INVALID_CONSTANT", 5).reason,
            Reason::kHttpInvalidResponse);
}

}  // namespace
}  // namespace bhe
