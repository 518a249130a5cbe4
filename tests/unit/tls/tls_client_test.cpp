// The socket-less TLS client against real `openssl s_server` scenario servers on 127.0.0.1: the
// test shuttles bytes over a plain blocking socket, as the engine does over libuv. Also the
// buffer-level behaviour that needs no server at all.
#include "probe/tls/tls_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <string>

#include "probe/tls/chain_analysis.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

using State = TlsClient::State;
using ReadStatus = TlsClient::ReadStatus;

// A generous bound so a broken client fails the test instead of hanging it; nothing asserts on
// how long anything takes.
constexpr int kSafetyTimeoutMs = 30000;

class Socket {
 public:
  explicit Socket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Socket() { ::close(fd_); }
  bool connected() const { return connected_; }

  void flush(TlsClient& tls) {
    const std::string out = tls.takeOutgoing();
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;  // the peer is gone; the client notices on the read side
      }
      sent += static_cast<std::size_t>(n);
    }
  }

  // One read into the client; EOF, reset and the safety timeout all count as "peer closed".
  void pump(TlsClient& tls) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, kSafetyTimeoutMs) <= 0) {
      ADD_FAILURE() << "no data from the server within the safety timeout";
      tls.markPeerClosed();
      return;
    }
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      tls.markPeerClosed();
      return;
    }
    EXPECT_TRUE(tls.receive(buffer, static_cast<std::size_t>(n)));
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

State handshake(TlsClient& tls, Socket& sock) {
  tls.start();
  sock.flush(tls);
  // Bounded, so a client that never notices EOF fails instead of spinning.
  for (int rounds = 0; tls.state() == State::kHandshaking; ++rounds) {
    if (rounds == 1000) {
      ADD_FAILURE() << "handshake neither finished nor failed";
      break;
    }
    sock.pump(tls);
    tls.advance();
    sock.flush(tls);
  }
  return tls.state();
}

std::string httpGet(TlsClient& tls, Socket& sock) {
  EXPECT_TRUE(tls.writePlain("GET / HTTP/1.0\r\n\r\n"));
  sock.flush(tls);
  std::string body;
  for (int rounds = 0; rounds < 100000; ++rounds) {
    const ReadStatus status = tls.readPlain(body, 1 << 20);
    if (status == ReadStatus::kClosed) {
      return body;
    }
    if (status == ReadStatus::kError) {
      ADD_FAILURE() << "read error: " << tls.error().text;
      return body;
    }
    sock.pump(tls);
  }
  ADD_FAILURE() << "response never ended";
  return body;
}

std::vector<std::string> subjects(const std::vector<Der>& chain) {
  std::vector<std::string> out;
  for (const auto& der : chain) {
    auto cert = Certificate::parse(der);
    out.push_back(cert ? cert->subject() : "(unparsable)");
  }
  return out;
}

std::shared_ptr<const TlsContext> privateContext(TlsContextOptions options = {}) {
  std::string error;
  auto ctx = TlsContext::create(test::anchorsFrom({"root.pem"}), options, &error);
  EXPECT_NE(ctx, nullptr) << error;
  return ctx;
}

ChainVerdict analyze(const TlsClient& tls, const TlsContext& ctx, TrustMode mode,
                     std::string_view host = "good.test") {
  ChainAnalysisInput in;
  in.presented = tls.presentedChain();
  in.anchors = &ctx.anchors();
  in.mode = mode;
  in.expected_host = host;
  in.now = std::time(nullptr);
  in.library_errors = tls.verifyErrors();
  return analyzeChain(in);
}

const std::string kLeaf = "CN=good.test,O=BHE Test";
const std::string kInt = "CN=BHE Test Intermediate CA,O=BHE Test";
const std::string kRoot = "CN=BHE Test Root CA,O=BHE Test";

TEST(TlsClientServer, HealthyHandshakeThenGet) {
  test::ScenarioServer server("healthy_private");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_TRUE(sock.connected());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(tls.version(), "TLSv1.3");
  EXPECT_FALSE(tls.cipher().empty());
  EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kLeaf, kInt, kRoot}));
  EXPECT_TRUE(tls.verifyErrors().empty());
  auto verdict = analyze(tls, *ctx, TrustMode::kPrivate);
  EXPECT_TRUE(verdict.ok()) << verdict.details;

  const std::string response = httpGet(tls, sock);
  EXPECT_EQ(response.rfind("HTTP/1.0 200 ok\r\n", 0), 0u) << response.substr(0, 200);
  EXPECT_GT(response.size(), 200u);
}

TEST(TlsClientServer, Tls12Server) {
  test::ScenarioServer server("healthy_tls12_only");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(tls.version(), "TLSv1.2");
  EXPECT_EQ(httpGet(tls, sock).rfind("HTTP/1.0 200 ok", 0), 0u);
}

TEST(TlsClientServer, WellKnownBundleContext) {
  test::ScenarioServer server("healthy_well_known_no_root");
  auto ctx = TlsContext::create(test::wellKnownBundle());
  ASSERT_NE(ctx, nullptr);
  EXPECT_GE(ctx->loadedAnchors(), 1u);
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_TRUE(tls.verifyErrors().empty());
  auto verdict = analyze(tls, *ctx, TrustMode::kWellKnown);
  EXPECT_TRUE(verdict.ok()) << verdict.details;
}

TEST(TlsClientServer, PresentedOrderIsKeptForLeafNotFirst) {
  test::ScenarioServer server("leaf_not_first");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kInt, kLeaf, kRoot}));
  EXPECT_EQ(analyze(tls, *ctx, TrustMode::kPrivate).reason, Reason::kTlsLeafNotTopmost);
}

TEST(TlsClientServer, PresentedOrderIsKeptForLeafLast) {
  test::ScenarioServer server("leaf_last");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kInt, kRoot, kLeaf}));
}

TEST(TlsClientServer, HandshakeContinuesPastAnExpiredLeaf) {
  test::ScenarioServer server("expired_leaf");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  ASSERT_EQ(tls.presentedChain().size(), 2u);
  ASSERT_FALSE(tls.verifyErrors().empty());
  EXPECT_EQ(tls.verifyErrors()[0].depth, 0);
  EXPECT_TRUE(tls.verifyErrors()[0].code == 10 || tls.verifyErrors()[0].code == 14)
      << tls.verifyErrors()[0].code;
  auto verdict = analyze(tls, *ctx, TrustMode::kPrivate);
  EXPECT_EQ(verdict.reason, Reason::kTlsCertExpired) << verdict.details;
  EXPECT_EQ(verdict.leaf_not_after, 1609459200);
}

TEST(TlsClientServer, SelfSignedLeafKeepsChainAndErrors) {
  test::ScenarioServer server("self_signed_leaf");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kLeaf}));
  EXPECT_FALSE(tls.verifyErrors().empty());
  auto verdict = analyze(tls, *ctx, TrustMode::kPrivate);
  EXPECT_EQ(verdict.reason, Reason::kTlsIntermediateMissing) << verdict.details;
}

TEST(TlsClientServer, UntrustedPrivateRootInWellKnownMode) {
  test::ScenarioServer server("cert_not_public_ca");
  auto ctx = TlsContext::create(test::wellKnownBundle());
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(tls.presentedChain().size(), 3u);
  auto verdict = analyze(tls, *ctx, TrustMode::kWellKnown);
  EXPECT_EQ(verdict.reason, Reason::kTlsCertNotPublicCa) << verdict.details;
}

TEST(TlsClientServer, ServerOnlySpeaksAnOlderVersion) {
  test::ScenarioServer server("tls_version_mismatch");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kFailed);
  EXPECT_NE(tls.error().code, 0);
  EXPECT_NE(tls.error().text.find("protocol_version"), std::string::npos) << tls.error().text;
  EXPECT_TRUE(tls.presentedChain().empty());
}

TEST(TlsClientServer, ClientLimitedToTls12AgainstTls13OnlyServer) {
  test::ScenarioServer server("healthy_tls13_only");
  auto ctx = privateContext({.min_version = TlsVersion::kTls12,
                             .max_version = TlsVersion::kTls12,
                             .client_identity = nullptr});
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kFailed);
  EXPECT_NE(tls.error().text.find("protocol_version"), std::string::npos) << tls.error().text;
}

TEST(TlsClientServer, PlainHttpPeer) {
  test::ScenarioServer server("plain_http");
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kFailed);
  EXPECT_NE(tls.error().text.find("answered with plain HTTP (\"HTTP/1.1 400 Bad Request\")"),
            std::string::npos)
      << tls.error().text;
}

// Every scenario of the end-to-end table, served for real: handshake with a context built the
// way the engine builds it for that scenario's trust mode, then the analyser on what wolfSSL
// gave us. Catches verify errors wolfSSL reports that the analyser would turn into a wrong
// reason (the pure analyser tests cannot see those).
TEST(TlsClientServer, EveryScenarioThroughARealHandshake) {
  int checked = 0;
  for (const auto& sc : test::scenarioTable()) {
    if (sc.kind == "stall") {
      continue;  // only a timeout ends it: the engine's business
    }
    SCOPED_TRACE(sc.name);
    test::ScenarioServer server(sc.name);
    std::shared_ptr<const TrustAnchors> anchors =
        sc.well_known ? test::wellKnownBundle()
                      : TrustAnchors::fromCertificates(test::loadCerts(sc.trusted_roots));
    auto ctx = TlsContext::create(anchors);
    ASSERT_NE(ctx, nullptr);
    TlsClient tls(ctx, sc.host);
    Socket sock(server.port());
    ASSERT_TRUE(sock.connected());
    const State state = handshake(tls, sock);
    ++checked;
    if (sc.reason == "tls_handshake_error") {
      EXPECT_EQ(state, State::kFailed);
      EXPECT_NE(tls.error().text.find(sc.details), std::string::npos) << tls.error().text;
      continue;
    }
    ASSERT_EQ(state, State::kEstablished) << tls.error().text;
    EXPECT_EQ(tls.presentedChain(), test::loadCerts(sc.presented));
    auto verdict =
        analyze(tls, *ctx, sc.well_known ? TrustMode::kWellKnown : TrustMode::kPrivate, sc.host);
    const std::string got =
        verdict.reason ? std::string(describe(*verdict.reason).name) : std::string("healthy");
    EXPECT_EQ(got, sc.reason) << verdict.details;
    EXPECT_NE(verdict.details.find(sc.details), std::string::npos) << verdict.details;
  }
  EXPECT_GE(checked, 33);
}

// --- what is reused across handshakes, and what never is ----------------------------------------

TEST(TlsClientServer, X25519IsTheKeyExchangeOfTls13AndTls12Servers) {
  auto ctx = privateContext();
  for (const char* name : {"healthy_private", "healthy_tls12_only"}) {
    test::ScenarioServer server(name);
    TlsClient tls(ctx, "good.test");
    Socket sock(server.port());
    ASSERT_EQ(handshake(tls, sock), State::kEstablished) << name << ": " << tls.error().text;
    EXPECT_EQ(tls.keyExchangeGroup(), "X25519") << name;
  }
}

TEST(TlsClientServer, Tls12HintLeavesOutTheKeyShareAndStillAgrees) {
  auto ctx = privateContext();
  test::ScenarioServer tls12("healthy_tls12_only");
  TlsPeerHint hint;
  {
    TlsClient first(ctx, "good.test");
    Socket sock(tls12.port());
    ASSERT_EQ(handshake(first, sock), State::kEstablished) << first.error().text;
    hint = first.hintForNextHandshake();
    EXPECT_TRUE(hint.last_was_tls12);
  }
  TlsClient second(ctx, "good.test", hint);
  Socket sock(tls12.port());
  ASSERT_EQ(handshake(second, sock), State::kEstablished) << second.error().text;
  EXPECT_EQ(second.version(), "TLSv1.2");
  EXPECT_EQ(second.keyExchangeGroup(), "X25519");
  EXPECT_EQ(subjects(second.presentedChain()), (std::vector<std::string>{kLeaf, kInt}));
  EXPECT_EQ(httpGet(second, sock).rfind("HTTP/1.0 200 ok", 0), 0u);
}

TEST(TlsClientServer, StaleTls12HintAgainstATls13ServerCostsOneRetryNotTheHandshake) {
  // The server moved to TLS 1.3 since the hint was made: it asks for the key share it wants
  // (HelloRetryRequest) and the handshake completes as TLS 1.3 with the whole chain.
  auto ctx = privateContext();
  test::ScenarioServer server("healthy_tls13_only");
  TlsPeerHint stale;
  stale.last_was_tls12 = true;
  TlsClient tls(ctx, "good.test", stale);
  Socket sock(server.port());
  ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
  EXPECT_EQ(tls.version(), "TLSv1.3");
  EXPECT_FALSE(tls.hintForNextHandshake().last_was_tls12);
  EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kLeaf, kInt}));
  EXPECT_TRUE(analyze(tls, *ctx, TrustMode::kPrivate).ok());
}

TEST(TlsClientServer, EveryHandshakeIsFullAndCertificateSignaturesAreCheckedOnce) {
  auto ctx = privateContext();
  test::ScenarioServer server("healthy_private");
  std::vector<Der> first_chain;
  for (int round = 0; round < 3; ++round) {
    const std::uint64_t hits = ctx->signatureCache().hits();
    const std::uint64_t misses = ctx->signatureCache().misses();
    TlsClient tls(ctx, "good.test");
    Socket sock(server.port());
    ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
    // No resumption: every handshake receives (and keeps) the whole chain.
    EXPECT_EQ(subjects(tls.presentedChain()), (std::vector<std::string>{kLeaf, kInt, kRoot}));
    EXPECT_TRUE(tls.verifyErrors().empty());
    if (round == 0) {
      first_chain = tls.presentedChain();
      continue;
    }
    EXPECT_EQ(tls.presentedChain(), first_chain);
    // The signatures of the three presented certificates come from the cache; the server's
    // CertificateVerify signs a new transcript and is computed every time.
    EXPECT_EQ(ctx->signatureCache().hits() - hits, 3u) << "round " << round;
    EXPECT_EQ(ctx->signatureCache().misses() - misses, 1u) << "round " << round;
  }
}

TEST(TlsClientServer, ASignatureThatFailedFailsAgainFromTheCache) {
  // The uploaded root has the intermediate's issuer name but another key: wolfSSL's check of the
  // intermediate's signature fails, the first time and every time after.
  std::string error;
  auto ctx = TlsContext::create(test::anchorsFrom({"root-impostor.pem"}), {}, &error);
  ASSERT_NE(ctx, nullptr) << error;
  test::ScenarioServer server("trusted_root_mismatch_no_root_same_name");
  std::vector<VerifyError> first_errors;
  for (int round = 0; round < 2; ++round) {
    TlsClient tls(ctx, "good.test");
    Socket sock(server.port());
    ASSERT_EQ(handshake(tls, sock), State::kEstablished) << tls.error().text;
    EXPECT_FALSE(tls.verifyErrors().empty());
    if (round == 0) {
      first_errors = tls.verifyErrors();
    } else {
      EXPECT_EQ(tls.verifyErrors(), first_errors);
    }
    EXPECT_EQ(analyze(tls, *ctx, TrustMode::kPrivate).reason,
              Reason::kTlsTrustedRootMismatchNoRoot);
  }
}

// --- no server needed -----------------------------------------------------------------------

const std::string kOfferedGroups("\x00\x0c\x00\x1d\x00\x17\x00\x18\x00\x19\x00\x1e\x01\x00", 14);

// The extensions of a ClientHello record, by type (a test-sized parser: one record, one message).
std::map<int, std::string> clientHelloExtensions(const std::string& record) {
  std::map<int, std::string> out;
  auto u8 = [&](std::size_t i) { return static_cast<unsigned char>(record.at(i)); };
  auto u16 = [&](std::size_t i) { return u8(i) << 8 | u8(i + 1); };
  std::size_t pos = 5 + 4 + 2 + 32;  // record header, handshake header, version, random
  pos += 1 + u8(pos);                // session id
  pos += 2 + u16(pos);               // cipher suites
  pos += 1 + u8(pos);                // compression methods
  const std::size_t end = pos + 2 + u16(pos);
  for (pos += 2; pos + 4 <= end;) {
    const int type = u16(pos);
    const std::size_t size = u16(pos + 2);
    out[type] = record.substr(pos + 4, size);
    pos += 4 + size;
  }
  return out;
}

TEST(TlsClientBuffers, ClientHelloOffersX25519FirstAndItsKeyShare) {
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  tls.start();
  auto extensions = clientHelloExtensions(tls.takeOutgoing());
  // supported_groups: list length, then X25519 (29), P-256 (23), P-384 (24), P-521 (25), X448
  // (30), ffdhe2048 (256) and nothing else.
  ASSERT_TRUE(extensions.contains(10));
  EXPECT_EQ(extensions[10], kOfferedGroups);
  // key_share: one X25519 entry (32 bytes of public key).
  ASSERT_TRUE(extensions.contains(51));
  const std::string& shares = extensions[51];
  ASSERT_EQ(shares.size(), 2u + 4u + 32u);
  EXPECT_EQ(shares.substr(0, 6), std::string("\x00\x24\x00\x1d\x00\x20", 6));
}

TEST(TlsClientBuffers, Tls12HintSendsAnEmptyKeyShareButStillOffersTls13) {
  auto ctx = privateContext();
  TlsPeerHint hint;
  hint.last_was_tls12 = true;
  TlsClient tls(ctx, "good.test", hint);
  tls.start();
  auto extensions = clientHelloExtensions(tls.takeOutgoing());
  ASSERT_TRUE(extensions.contains(51));
  EXPECT_EQ(extensions[51], std::string("\x00\x00", 2));
  ASSERT_TRUE(extensions.contains(43));  // supported_versions
  EXPECT_NE(extensions[43].find(std::string("\x03\x04", 2)), std::string::npos);
  EXPECT_EQ(extensions[10], kOfferedGroups);
}

TEST(TlsClientBuffers, ClientHelloCarriesSniForNamesOnly) {
  auto ctx = privateContext();
  auto hello = [&](std::string_view host) {
    TlsClient tls(ctx, host);
    EXPECT_EQ(tls.start(), State::kHandshaking);
    return tls.takeOutgoing();
  };
  const std::string named = hello("sni-check.test");
  ASSERT_FALSE(named.empty());
  EXPECT_EQ(named[0], 0x16);  // a TLS handshake record
  EXPECT_NE(named.find("sni-check.test"), std::string::npos);
  EXPECT_NE(hello("sni-check.test.").find("sni-check.test"), std::string::npos);
  EXPECT_EQ(hello("127.0.0.1").find("127.0.0.1"), std::string::npos);
  EXPECT_FALSE(hello("").empty());
}

TEST(TlsClientBuffers, PeerClosedDuringHandshake) {
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  tls.start();
  EXPECT_FALSE(tls.takeOutgoing().empty());
  EXPECT_EQ(tls.advance(), State::kHandshaking);  // nothing received yet: wait
  EXPECT_FALSE(tls.hasOutgoing());
  tls.markPeerClosed();
  EXPECT_EQ(tls.advance(), State::kFailed);
  EXPECT_NE(tls.error().text.find("the peer closed the connection during the handshake after 0 "
                                  "bytes"),
            std::string::npos)
      << tls.error().text;
}

TEST(TlsClientBuffers, NonTlsBytes) {
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  tls.start();
  const std::string banner = "SSH-2.0-OpenSSH_9.2\r\n";
  ASSERT_TRUE(tls.receive(banner.data(), banner.size()));
  EXPECT_EQ(tls.advance(), State::kFailed);
  EXPECT_NE(tls.error().text.find("not speaking TLS: its first bytes are \"SSH-2.0-OpenSSH_9.2\""),
            std::string::npos)
      << tls.error().text;
}

TEST(TlsClientBuffers, InboundBufferIsBounded) {
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  tls.start();
  const std::string chunk(64 * 1024, '\x16');
  std::size_t accepted = 0;
  while (tls.receive(chunk.data(), chunk.size())) {
    accepted += chunk.size();
    ASSERT_LE(accepted, TlsClient::kMaxPendingInbound);
  }
  EXPECT_EQ(tls.state(), State::kFailed);
  EXPECT_NE(tls.error().text.find("KiB of unprocessed data"), std::string::npos);
  EXPECT_FALSE(tls.receive("x", 1));
}

TEST(TlsClientBuffers, PlainIoBeforeTheHandshakeIsRefused) {
  auto ctx = privateContext();
  TlsClient tls(ctx, "good.test");
  tls.start();
  EXPECT_FALSE(tls.writePlain("GET /"));
  std::string out;
  EXPECT_EQ(tls.readPlain(out, 100), ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(tls.version().empty());
  EXPECT_EQ(tls.state(), State::kHandshaking);
}

}  // namespace
}  // namespace bhe
