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

// Out of descriptors, buffers or memory, the exporter could not probe: never the backend's or
// the DNS server's fault.
TEST(Classify, LocalResourceErrorsAreTheExportersOwn) {
  for (int error : {UV_EMFILE, UV_ENFILE, UV_ENOBUFS, UV_ENOMEM}) {
    const Failure connect = classifyConnectFailure(error, "10.0.0.5:443");
    EXPECT_EQ(connect.reason, Reason::kExporterResourceExhausted) << uv_err_name(error);
    EXPECT_NE(connect.details.find(uv_err_name(error)), std::string::npos) << connect.details;
    EXPECT_NE(connect.details.find("the backend is not at fault"), std::string::npos);

    const Failure dns = classifyDnsFailure(ARES_ECONNREFUSED, "api.test", "127.0.0.1:53", error);
    EXPECT_EQ(dns.reason, Reason::kExporterResourceExhausted) << uv_err_name(error);
    EXPECT_NE(dns.details.find("Lookup of api.test via 127.0.0.1:53 not sent"), std::string::npos)
        << dns.details;
    EXPECT_NE(dns.details.find("the DNS servers are not at fault"), std::string::npos);

    for (auto kind : {StreamEnd::Kind::kReadError, StreamEnd::Kind::kWriteError}) {
      EXPECT_EQ(classifyStreamEnd({kind, error, {}}, 10).reason, Reason::kExporterResourceExhausted)
          << uv_err_name(error);
    }
    for (auto kind :
         {TlsHandshakeFailure::Kind::kWriteFailed, TlsHandshakeFailure::Kind::kTransportBroke}) {
      TlsHandshakeFailure failure;
      failure.kind = kind;
      failure.uv_error = error;
      EXPECT_EQ(classifyTlsHandshakeFailure(failure).reason, Reason::kExporterResourceExhausted)
          << uv_err_name(error);
    }
  }
  EXPECT_EQ(classifyConnectFailure(UV_EMFILE, "10.0.0.5:443").details,
            "Connect to 10.0.0.5:443 failed: the exporter is out of file descriptors (EMFILE, "
            "too many open files): it needs one per probe in flight plus the web surface's "
            "connections; raise its limit (LimitNOFILE=, ulimit -n, --ulimit nofile=) or lower "
            "max_concurrent_probes; the backend is not at fault");
  EXPECT_EQ(describe(Reason::kExporterResourceExhausted).state, HealthState::kUnknown);
  EXPECT_EQ(describe(Reason::kExporterResourceExhausted).category, "exporter");
}

TEST(Classify, OtherErrorsStayTheBackendsOrTheResolvers) {
  // A socket error that is not a shortage does not change the DNS verdict.
  EXPECT_EQ(classifyDnsFailure(ARES_ECONNREFUSED, "a.test", "", UV_EACCES).reason,
            Reason::kDnsServerUnreachable);
  EXPECT_EQ(classifyDnsFailure(ARES_ECONNREFUSED, "a.test", "", 0).reason,
            Reason::kDnsServerUnreachable);
  EXPECT_EQ(classifyStreamEnd({StreamEnd::Kind::kReadError, UV_ECONNABORTED, {}}, 0).reason,
            Reason::kHttpInvalidResponse);
  EXPECT_EQ(classifyConnectFailure(UV_EADDRNOTAVAIL, "x").reason, Reason::kTcpConnectError);
}

// The reason of an unresolved name carries the socket error through the resolve phase.
TEST(Classify, UnresolvedForLackOfDescriptors) {
  ResolveOutcome outcome;
  outcome.kind = ResolveOutcome::Kind::kFailed;
  outcome.status = ARES_ECONNREFUSED;
  outcome.servers = "127.0.0.1:5353";
  outcome.socket_error = UV_EMFILE;
  EXPECT_EQ(classifyUnresolved(outcome, "api.test", AddressFamilies{}, "5s").reason,
            Reason::kExporterResourceExhausted);
  outcome.socket_error = 0;
  EXPECT_EQ(classifyUnresolved(outcome, "api.test", AddressFamilies{}, "5s").reason,
            Reason::kDnsServerUnreachable);
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
