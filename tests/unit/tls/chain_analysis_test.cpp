// The chain analyser on DER chains generated at test time (make-pki.sh): one case per seed
// scenario, the precedence between coexisting faults, the metrics fields, and a cross-check that
// the scenario table the end-to-end tests use (scenarios.py) agrees with the analyser.
#include "probe/tls/chain_analysis.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "pki/certificate_file.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

using test::anchorsFrom;
using test::loadCert;
using test::loadCerts;
using test::wellKnownBundle;

constexpr std::int64_t k2021 = 1609459200;  // 2021-01-01T00:00:00Z
constexpr std::int64_t k2099 = 4070908800;  // 2099-01-01T00:00:00Z

std::string reasonName(const ChainVerdict& v) {
  return v.reason ? std::string(describe(*v.reason).name) : std::string("healthy");
}

struct Case {
  std::vector<std::string> presented = {};  // PKI files, wire order
  TrustMode mode = TrustMode::kPrivate;
  std::vector<std::string> roots = {"root.pem"};  // uploaded (private mode)
  std::string host = "good.test";
  std::vector<VerifyError> library_errors = {};
  std::int64_t now = std::time(nullptr);
};

ChainVerdict run(const Case& c) {
  const std::vector<Der> chain = loadCerts(c.presented);
  std::shared_ptr<const TrustAnchors> anchors;
  if (c.mode == TrustMode::kWellKnown) {
    anchors = wellKnownBundle();
  } else {
    anchors = TrustAnchors::fromCertificates(loadCerts(c.roots));
  }
  ChainAnalysisInput in;
  in.presented = chain;
  in.anchors = anchors.get();
  in.mode = c.mode;
  in.expected_host = c.host;
  in.now = c.now;
  in.library_errors = c.library_errors;
  return analyzeChain(in);
}

#define EXPECT_VERDICT(verdict, expected_reason, details_substring)          \
  do {                                                                       \
    const ChainVerdict& v_ = (verdict);                                      \
    EXPECT_EQ(reasonName(v_), (expected_reason)) << v_.details;              \
    EXPECT_NE(v_.details.find(details_substring), std::string::npos)         \
        << "details: " << v_.details << "\nwanted: " << (details_substring); \
  } while (0)

// --- healthy chains --------------------------------------------------------------------------

TEST(ChainAnalysis, HealthyFullChainWithUploadedRoot) {
  auto v = run({.presented = {"good.pem", "chain-int-root.pem"}});
  EXPECT_VERDICT(v, "healthy",
                 "verified: [0] CN=good.test,O=BHE Test <- [1] CN=BHE Test Intermediate CA,O=BHE "
                 "Test <- [2] CN=BHE Test Root CA,O=BHE Test");
}

TEST(ChainAnalysis, HealthyWithoutRootWhenUploadedRootSignedTheIntermediate) {
  auto v = run({.presented = {"good.pem", "chain-int.pem"}});
  EXPECT_VERDICT(v, "healthy", "<- trusted root CN=BHE Test Root CA,O=BHE Test");
}

TEST(ChainAnalysis, HealthyWellKnownBundleWithAndWithoutRoot) {
  EXPECT_VERDICT(
      run({.presented = {"good.pem", "chain-int-root.pem"}, .mode = TrustMode::kWellKnown}),
      "healthy", "verified");
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .mode = TrustMode::kWellKnown}),
                 "healthy", "trusted root CN=BHE Test Root CA");
}

TEST(ChainAnalysis, LeafSignedDirectlyByTrustedRootIsHealthy) {
  EXPECT_VERDICT(run({.presented = {"leaf-direct.pem"}}), "healthy",
                 "verified: [0] CN=good.test,O=BHE Test <- trusted root CN=BHE Test Root CA");
  EXPECT_VERDICT(run({.presented = {"leaf-direct.pem", "root.pem"}}), "healthy", "[1]");
}

TEST(ChainAnalysis, OutOfOrderIntermediatesAndExtraCertificatesAreFine) {
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-root-int.pem"}}), "healthy", "verified");
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int-extra-root.pem"}}), "healthy",
                 "[0] CN=good.test,O=BHE Test <- [1] CN=BHE Test Intermediate CA");
}

TEST(ChainAnalysis, TrustedRootIsPreferredOverAPresentedLookalike) {
  // The server sends a root with the right name but another key; the uploaded root signed the
  // intermediate, so the lookalike is never used (OpenSSL's "trusted first").
  EXPECT_VERDICT(run({.presented = {"good.pem", "int.pem", "root-impostor.pem"}}), "healthy",
                 "<- trusted root CN=BHE Test Root CA");
}

TEST(ChainAnalysis, HostNameRules) {
  EXPECT_VERDICT(run({.presented = {"sanonly.pem", "chain-int.pem"}, .host = "sanonly.test"}),
                 "healthy", "verified");
  EXPECT_VERDICT(run({.presented = {"cnonly.pem", "chain-int.pem"}, .host = "CNONLY.test."}),
                 "healthy", "verified");
  EXPECT_VERDICT(run({.presented = {"wildcard.pem", "chain-int.pem"}, .host = "api.wild.test"}),
                 "healthy", "verified");
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .host = "127.0.0.1"}), "healthy",
                 "verified");
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .host = "::1"}), "healthy",
                 "verified");
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .host = ""}), "healthy",
                 "verified");
}

// --- one case per seed fault ---------------------------------------------------------------

TEST(ChainAnalysis, WrongCn) {
  EXPECT_VERDICT(run({.presented = {"wrongcn.pem", "chain-int.pem"}}), "tls_cn_mismatch",
                 "expected host good.test does not match the leaf at position 0 "
                 "(CN=wrong.test,O=BHE Test): SAN DNS:wrong.test");
}

TEST(ChainAnalysis, CnIsIgnoredWhenTheCertificateHasDnsSans) {
  EXPECT_VERDICT(run({.presented = {"sanonly.pem", "chain-int.pem"}, .host = "san-only-cn.test"}),
                 "tls_cn_mismatch", "SAN DNS:other.test, DNS:sanonly.test");
}

TEST(ChainAnalysis, WildcardCoversOneLabelOnly) {
  EXPECT_VERDICT(run({.presented = {"wildcard.pem", "chain-int.pem"}, .host = "a.b.wild.test"}),
                 "tls_cn_mismatch", "SAN DNS:*.wild.test");
  EXPECT_VERDICT(run({.presented = {"wildcard.pem", "chain-int.pem"}, .host = "wild.test"}),
                 "tls_cn_mismatch", "expected host wild.test");
}

TEST(ChainAnalysis, IpHostNeedsAnIpSan) {
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .host = "127.0.0.2"}),
                 "tls_cn_mismatch", "IP:127.0.0.1, IP:::1");
  // A DNS SAN spelling an address does not count for an IP host.
  EXPECT_VERDICT(run({.presented = {"wrongcn.pem", "chain-int.pem"}, .host = "10.0.0.1"}),
                 "tls_cn_mismatch", "expected host 10.0.0.1");
}

TEST(ChainAnalysis, ExpiredLeaf) {
  EXPECT_VERDICT(run({.presented = {"expired.pem", "chain-int.pem"}}), "tls_cert_expired",
                 "certificate at position 0 (CN=good.test,O=BHE Test) expired at "
                 "2021-01-01T00:00:00Z (valid 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z)");
}

TEST(ChainAnalysis, ExpiredIntermediate) {
  EXPECT_VERDICT(run({.presented = {"leaf-expint.pem", "chain-intexp-root.pem"}}),
                 "tls_cert_expired",
                 "certificate at position 1 (CN=BHE Test Expired Intermediate CA,O=BHE Test) "
                 "expired at 2021-01-01T00:00:00Z");
}

TEST(ChainAnalysis, NotYetValidLeaf) {
  EXPECT_VERDICT(run({.presented = {"notyet.pem", "chain-int.pem"}}), "tls_cert_expired",
                 "certificate at position 0 (CN=good.test,O=BHE Test) is not valid before "
                 "2099-01-01T00:00:00Z (not yet valid)");
}

TEST(ChainAnalysis, ExpiredTrustAnchorThatWasNotPresented) {
  // The expired intermediate uploaded as the trusted CA, the server sends only the leaf.
  EXPECT_VERDICT(run({.presented = {"leaf-expint.pem"}, .roots = {"int-expired.pem"}}),
                 "tls_cert_expired",
                 "trusted root CN=BHE Test Expired Intermediate CA,O=BHE Test (from the trust "
                 "store, not presented) expired at 2021-01-01T00:00:00Z");
}

TEST(ChainAnalysis, ValidityBoundariesAreInclusive) {
  auto cert = Certificate::parse(loadCert("expired.pem"));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->notAfter(), k2021);
  // The intermediate uploaded as the anchor: the leaf is checked first, then the anchor (valid
  // only from yesterday). So "the leaf passed" shows as a complaint about the anchor instead.
  auto at = [&](std::int64_t now) {
    return run({.presented = {"expired.pem"}, .roots = {"int.pem"}, .now = now}).details;
  };
  EXPECT_NE(at(cert->notBefore() - 1)
                .find("position 0 (CN=good.test,O=BHE Test) is not valid "
                      "before 2020-01-01T00:00:00Z"),
            std::string::npos);
  EXPECT_NE(at(cert->notBefore()).find("trusted root CN=BHE Test Intermediate CA"),
            std::string::npos);
  EXPECT_NE(at(k2021).find("trusted root CN=BHE Test Intermediate CA"), std::string::npos);
  EXPECT_NE(at(k2021 + 1).find("position 0 (CN=good.test,O=BHE Test) expired at"),
            std::string::npos);
}

TEST(ChainAnalysis, IntermediateMissing) {
  EXPECT_VERDICT(run({.presented = {"good.pem"}}), "tls_intermediate_missing",
                 "the issuer of the leaf at position 0 (CN=good.test,O=BHE Test), CN=BHE Test "
                 "Intermediate CA,O=BHE Test, is neither presented by the server nor in the 1 "
                 "uploaded trusted root certificate");
  EXPECT_VERDICT(run({.presented = {"good.pem"}, .mode = TrustMode::kWellKnown}),
                 "tls_intermediate_missing", "nor in the well-known CA bundle");
  // The root alone does not help: the leaf's issuer is the intermediate.
  EXPECT_VERDICT(run({.presented = {"good.pem", "root.pem"}}), "tls_intermediate_missing",
                 "is neither presented");
}

TEST(ChainAnalysis, PresentedIssuerWithRightNameButWrongKeyIsMissing) {
  // leaf-direct was issued by the test root; the server sends a lookalike root (same name,
  // other key) and nothing trusted signed the leaf.
  EXPECT_VERDICT(
      run({.presented = {"leaf-direct.pem", "root-impostor.pem"}, .roots = {"root2.pem"}}),
      "tls_intermediate_missing",
      "; the certificate at position 1 has that name but its key did not sign it");
}

TEST(ChainAnalysis, SelfSignedLeafThatIsNotACa) {
  EXPECT_VERDICT(run({.presented = {"selfsigned.pem"}}), "tls_intermediate_missing",
                 "the leaf at position 0 (CN=good.test,O=BHE Test) is self-signed but not a CA "
                 "certificate");
  EXPECT_VERDICT(run({.presented = {"selfsigned.pem"}, .mode = TrustMode::kWellKnown}),
                 "tls_intermediate_missing", "self-signed");
}

TEST(ChainAnalysis, LeafMissing) {
  EXPECT_VERDICT(run({.presented = {"int.pem", "root.pem"}}), "tls_leaf_missing",
                 "no end-entity (leaf) certificate among the 2 presented, all are CA "
                 "certificates: [0] CN=BHE Test Intermediate CA,O=BHE Test; [1] CN=BHE Test "
                 "Root CA,O=BHE Test");
}

TEST(ChainAnalysis, NoCertificateAtAll) {
  ChainAnalysisInput in;
  in.now = std::time(nullptr);
  auto v = analyzeChain(in);
  EXPECT_VERDICT(v, "tls_leaf_missing", "presented no certificate");
  EXPECT_TRUE(v.chain.empty());
  EXPECT_FALSE(v.leaf_not_after);
  EXPECT_FALSE(v.chain_earliest_not_after);
}

TEST(ChainAnalysis, LeafNotFirst) {
  EXPECT_VERDICT(run({.presented = {"int.pem", "good.pem", "root.pem"}}), "tls_leaf_not_topmost",
                 "the leaf certificate CN=good.test,O=BHE Test is at position 1, not 0; position "
                 "0 holds CA certificate CN=BHE Test Intermediate CA,O=BHE Test");
}

TEST(ChainAnalysis, LeafLast) {
  EXPECT_VERDICT(run({.presented = {"int.pem", "root.pem", "good.pem"}}), "tls_leaf_not_topmost",
                 "is at position 2, not 0");
}

TEST(ChainAnalysis, WellKnownModeServerSendsPrivateRoot) {
  EXPECT_VERDICT(
      run({.presented = {"leaf2.pem", "chain-int2-root2.pem"}, .mode = TrustMode::kWellKnown}),
      "tls_cert_not_public_ca",
      "the server presents root CN=BHE Other Root CA,O=BHE Other at position 2, which is not in "
      "the well-known CA bundle");
}

TEST(ChainAnalysis, WellKnownModeIntermediateNotSignedByPublicCa) {
  EXPECT_VERDICT(
      run({.presented = {"leaf2.pem", "chain-int2.pem"}, .mode = TrustMode::kWellKnown}),
      "tls_intermediate_not_public_ca",
      "the top intermediate at position 1 (CN=BHE Other Intermediate CA,O=BHE Other) is issued "
      "by CN=BHE Other Root CA,O=BHE Other, which is not in the well-known CA bundle (no root "
      "presented)");
}

TEST(ChainAnalysis, PrivateModeUploadedRootDidNotSignTheIntermediate) {
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .roots = {"root2.pem"}}),
                 "tls_trusted_root_mismatch_no_root",
                 "the top intermediate at position 1 (CN=BHE Test Intermediate CA,O=BHE Test) is "
                 "issued by CN=BHE Test Root CA,O=BHE Test, which is not in the 1 uploaded "
                 "trusted root certificate (CN=BHE Other Root CA,O=BHE Other) (no root "
                 "presented)");
}

TEST(ChainAnalysis, PrivateModeUploadedRootWithSameNameButOtherKey) {
  // A name match alone must not make the chain trusted.
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int.pem"}, .roots = {"root-impostor.pem"}}),
                 "tls_trusted_root_mismatch_no_root",
                 "trusted root CN=BHE Test Root CA,O=BHE Test has that name but a different key");
}

TEST(ChainAnalysis, PrivateModeServerSendsADifferentRoot) {
  EXPECT_VERDICT(
      run({.presented = {"good.pem", "chain-int-root.pem"}, .roots = {"root2.pem"}}),
      "tls_trusted_root_mismatch",
      "the server presents root CN=BHE Test Root CA,O=BHE Test at position 2, which is not in "
      "the 1 uploaded trusted root certificate (CN=BHE Other Root CA,O=BHE Other)");
  // Several uploaded roots, none of them the presented one.
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int-root.pem"},
                      .roots = {"root2.pem", "root-impostor.pem"}}),
                 "tls_trusted_root_mismatch", "the 2 uploaded trusted root certificates");
}

TEST(ChainAnalysis, PrivateModeWithNoUploadedRootAtAll) {
  EXPECT_VERDICT(run({.presented = {"good.pem", "chain-int-root.pem"}, .roots = {}}),
                 "tls_trusted_root_mismatch", "the 0 uploaded trusted root certificates");
}

// --- library-reported errors ---------------------------------------------------------------

TEST(ChainAnalysis, ErrorsTheAnalyserJudgesItselfDoNotFailAHealthyChain) {
  // What wolfSSL reports for chains the analyser accepts (e.g. a root it could not load):
  // issuer / self-signed / validity / host codes are the analyser's business.
  Case c{.presented = {"good.pem", "chain-int.pem"}};
  c.library_errors = {{20, 0, "unable to get local issuer certificate"},
                      {14, 1, "x"},
                      {-188, 0, "no signer"},
                      {-322, 0, "name"}};
  EXPECT_VERDICT(run(c), "healthy", "verified");
}

TEST(ChainAnalysis, OtherLibraryErrorsAreVerificationFailures) {
  Case c{.presented = {"good.pem", "chain-int.pem"}};
  c.library_errors = {{20, 0, "unable to get local issuer certificate"},
                      {7, 1, verifyErrorText(7)},
                      {26, 0, verifyErrorText(26)}};
  EXPECT_VERDICT(run(c), "tls_cert_verification_failed",
                 "the TLS library reported error 7 (certificate signature failure) for the "
                 "certificate at position 1 (CN=BHE Test Intermediate CA,O=BHE Test)");
}

TEST(ChainAnalysis, LibraryErrorWithoutTextGetsTheTableText) {
  Case c{.presented = {"good.pem", "chain-int.pem"}};
  c.library_errors = {{25, 0, ""}};
  EXPECT_VERDICT(run(c), "tls_cert_verification_failed",
                 "error 25 (path length constraint exceeded)");
}

TEST(ChainAnalysis, IssuerThatIsNotACa) {
  EXPECT_VERDICT(run({.presented = {"by-leaf.pem", "good.pem", "int.pem"}}),
                 "tls_cert_verification_failed",
                 "error 24 (invalid CA certificate): the certificate at position 1 "
                 "(CN=good.test,O=BHE Test) signed CN=by-leaf.test,O=BHE Test but is not a CA "
                 "certificate");
}

TEST(ChainAnalysis, UnparsableCertificate) {
  std::vector<Der> chain = loadCerts({"good.pem"});
  chain.push_back(Der{0x30, 0x03, 0x02, 0x01, 0x00});
  ChainAnalysisInput in;
  in.presented = chain;
  in.now = std::time(nullptr);
  auto v = analyzeChain(in);
  EXPECT_VERDICT(v, "tls_cert_verification_failed",
                 "the certificate at position 1 of the presented chain is not a parsable X.509");
  ASSERT_EQ(v.chain.size(), 1u);  // what could be parsed is still summarised
}

// --- precedence when several faults coexist -------------------------------------------------

TEST(ChainPrecedence, ExpiredBeatsWrongCn) {
  EXPECT_VERDICT(run({.presented = {"expired.pem", "chain-int.pem"}, .host = "wrong.test"}),
                 "tls_cert_expired", "expired at 2021-01-01T00:00:00Z");
}

TEST(ChainPrecedence, LeafNotFirstBeatsExpired) {
  EXPECT_VERDICT(run({.presented = {"int.pem", "expired.pem", "root.pem"}}), "tls_leaf_not_topmost",
                 "is at position 1");
}

TEST(ChainPrecedence, LeafMissingBeatsExpired) {
  EXPECT_VERDICT(run({.presented = {"int-expired.pem", "root.pem"}}), "tls_leaf_missing",
                 "no end-entity");
}

TEST(ChainPrecedence, IntermediateMissingBeatsWrongCn) {
  EXPECT_VERDICT(run({.presented = {"wrongcn.pem"}}), "tls_intermediate_missing",
                 "is neither presented");
}

TEST(ChainPrecedence, ExpiredBeatsIntermediateMissing) {
  EXPECT_VERDICT(run({.presented = {"expired.pem"}}), "tls_cert_expired", "position 0");
}

TEST(ChainPrecedence, ExpiredBeatsUntrustedRoot) {
  EXPECT_VERDICT(
      run({.presented = {"leaf-expint.pem", "chain-intexp-root.pem"}, .roots = {"root2.pem"}}),
      "tls_cert_expired", "position 1");
}

TEST(ChainPrecedence, TrustedRootMismatchBeatsWrongCn) {
  EXPECT_VERDICT(run({.presented = {"wrongcn.pem", "chain-int-root.pem"}, .roots = {"root2.pem"}}),
                 "tls_trusted_root_mismatch", "CN=BHE Test Root CA");
}

TEST(ChainPrecedence, NotPublicCaBeatsWrongCn) {
  EXPECT_VERDICT(run({.presented = {"leaf2.pem", "chain-int2.pem"},
                      .mode = TrustMode::kWellKnown,
                      .host = "nope.test"}),
                 "tls_intermediate_not_public_ca", "BHE Other");
}

TEST(ChainPrecedence, WrongCnBeatsLibraryErrors) {
  Case c{.presented = {"wrongcn.pem", "chain-int.pem"}};
  c.library_errors = {{7, 0, "certificate signature failure"}};
  EXPECT_VERDICT(run(c), "tls_cn_mismatch", "expected host good.test");
}

TEST(ChainPrecedence, SelfSignedLeafBeatsWrongCn) {
  EXPECT_VERDICT(run({.presented = {"selfsigned.pem"}, .host = "other.test"}),
                 "tls_intermediate_missing", "self-signed");
}

// --- summary and metrics fields -------------------------------------------------------------

TEST(ChainSummary, PerCertificateSummaryInPresentedOrder) {
  auto v = run({.presented = {"good.pem", "chain-int-root.pem"}});
  ASSERT_EQ(v.chain.size(), 3u);
  EXPECT_EQ(v.chain[0].position, 0);
  EXPECT_EQ(v.chain[0].subject, "CN=good.test,O=BHE Test");
  EXPECT_EQ(v.chain[0].issuer, "CN=BHE Test Intermediate CA,O=BHE Test");
  EXPECT_FALSE(v.chain[0].is_ca);
  EXPECT_EQ(v.chain[1].subject, "CN=BHE Test Intermediate CA,O=BHE Test");
  EXPECT_TRUE(v.chain[1].is_ca);
  EXPECT_EQ(v.chain[2].position, 2);
  EXPECT_EQ(v.chain[2].subject, v.chain[2].issuer);
  EXPECT_LT(v.chain[0].not_before, v.chain[0].not_after);
  const std::string text = describeChain(v.chain);
  EXPECT_NE(text.find("[0] CN=good.test,O=BHE Test (issuer CN=BHE Test Intermediate CA"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("; [1] CN=BHE Test Intermediate CA,O=BHE Test (CA, issuer"),
            std::string::npos)
      << text;
}

TEST(ChainSummary, NotAfterMetricsAlsoWhenVerificationFails) {
  auto good = run({.presented = {"good.pem", "chain-int-root.pem"}});
  ASSERT_TRUE(good.leaf_not_after);
  ASSERT_TRUE(good.chain_earliest_not_after);
  EXPECT_EQ(*good.leaf_not_after, good.chain[0].not_after);
  EXPECT_EQ(*good.chain_earliest_not_after, good.chain[0].not_after);  // 2 y vs 10 y CAs

  auto expired_int = run({.presented = {"leaf-expint.pem", "chain-intexp-root.pem"}});
  ASSERT_FALSE(expired_int.ok());
  EXPECT_EQ(*expired_int.leaf_not_after, expired_int.chain[0].not_after);
  EXPECT_EQ(*expired_int.chain_earliest_not_after, k2021);

  // The leaf metric follows the end-entity, wherever the server put it.
  auto leaf_last = run({.presented = {"int.pem", "root.pem", "notyet.pem"}});
  EXPECT_EQ(reasonName(leaf_last), "tls_leaf_not_topmost");
  EXPECT_EQ(*leaf_last.leaf_not_after, leaf_last.chain[2].not_after);
  EXPECT_GT(*leaf_last.leaf_not_after, k2099);

  auto no_leaf = run({.presented = {"int.pem", "root.pem"}});
  EXPECT_FALSE(no_leaf.leaf_not_after);
  EXPECT_TRUE(no_leaf.chain_earliest_not_after);
}

// --- the end-to-end scenario table agrees with the analyser --------------------------------

TEST(ScenarioTable, EveryChainScenarioGetsItsExpectedReasonAndDetails) {
  const auto& table = test::scenarioTable();
  ASSERT_GT(table.size(), 30u);
  int checked = 0;
  for (const auto& sc : table) {
    if (sc.kind != "tls" || sc.reason == "tls_handshake_error") {
      continue;  // not a chain fault
    }
    SCOPED_TRACE(sc.name);
    Case c;
    c.presented = sc.presented;
    c.mode = sc.well_known ? TrustMode::kWellKnown : TrustMode::kPrivate;
    c.roots = sc.trusted_roots;
    c.host = sc.host;
    EXPECT_VERDICT(run(c), sc.reason, sc.details);
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

}  // namespace
}  // namespace bhe
