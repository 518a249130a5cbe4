#include "probe/revocation/revocation_decision.h"

#include <gtest/gtest.h>

#include "probe/classify/classify.h"

namespace bhe {
namespace {

using Outcome = SourceAnswer::Outcome;
using State = CertificateRevocationStatus::State;

SourceAnswer good(RevocationSource source, std::string url) {
  SourceAnswer a;
  a.source = source;
  a.endpoint = std::move(url);
  a.outcome = Outcome::kGood;
  return a;
}

SourceAnswer revoked(RevocationSource source, std::string url, std::int64_t at,
                     std::optional<RevocationReasonCode> reason) {
  SourceAnswer a;
  a.source = source;
  a.endpoint = std::move(url);
  a.outcome = Outcome::kRevoked;
  a.revoked_at = at;
  a.reason_code = reason;
  return a;
}

SourceAnswer failed(RevocationSource source, std::string url, SourceFailure how,
                    std::string detail = {}, int http_status = 0) {
  SourceAnswer a;
  a.source = source;
  a.endpoint = std::move(url);
  a.outcome = Outcome::kFailed;
  a.failure = how;
  a.failure_detail = std::move(detail);
  a.http_status = http_status;
  return a;
}

CertificateRevocationFacts cert(int position, std::string subject,
                                std::vector<std::string> ocsp = {},
                                std::vector<std::string> crl = {},
                                std::vector<SourceAnswer> answers = {}) {
  CertificateRevocationFacts f;
  f.position = position;
  f.subject = std::move(subject);
  f.ocsp_urls = std::move(ocsp);
  f.crl_urls = std::move(crl);
  f.answers = std::move(answers);
  return f;
}

constexpr const char* kOcsp = "http://127.0.0.1:1/int";
constexpr const char* kCrl = "http://127.0.0.1:2/int.crl";
constexpr std::int64_t kRevokedAt = 1767225600;  // 2026-01-01T00:00:00Z

TEST(RevocationDecision, SourcesAreConsultedStapledThenOcspThenCrl) {
  auto facts = cert(0, "CN=leaf", {"http://o1/", "http://o2/"}, {"http://c1/"});
  facts.has_stapled_response = true;
  const auto plan = planSources(facts);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].source, RevocationSource::kStapledOcsp);
  EXPECT_EQ(plan[1].url, "http://o1/");
  EXPECT_EQ(plan[2].url, "http://o2/");
  EXPECT_EQ(plan[3].source, RevocationSource::kCrl);
}

TEST(RevocationDecision, GoodByOcspCrlAndNoInformation) {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=leaf", {kOcsp}, {kCrl}, {good(RevocationSource::kOcsp, kOcsp)}),
      cert(1, "CN=int", {kOcsp}, {kCrl},
           {failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kRefused),
            good(RevocationSource::kCrl, kCrl)}),
      cert(2, "CN=other int")};
  const RevocationVerdict v = decideRevocation(path);
  EXPECT_EQ(v.kind, RevocationVerdict::Kind::kOk);
  ASSERT_EQ(v.certificates.size(), 3u);
  EXPECT_EQ(describeRevocationState(v.certificates[0]), "good (OCSP)");
  EXPECT_EQ(describeRevocationState(v.certificates[1]), "good (CRL)");
  EXPECT_EQ(describeRevocationState(v.certificates[2]), "no revocation information");
  EXPECT_EQ(describeRevocation(v),
            "revocation: [0] good (OCSP); [1] good (CRL); [2] no revocation information");
}

TEST(RevocationDecision, OcspFailsAndTheCrlDecides) {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=leaf", {kOcsp}, {kCrl},
           {failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kTimeout),
            revoked(RevocationSource::kCrl, kCrl, kRevokedAt, RevocationReasonCode::kSuperseded)})};
  const RevocationVerdict v = decideRevocation(path);
  EXPECT_EQ(v.kind, RevocationVerdict::Kind::kRevoked);
  EXPECT_EQ(v.certificates[0].state, State::kRevoked);
  EXPECT_EQ(describeRevocationState(v.certificates[0]), "revoked (CRL)");
}

TEST(RevocationDecision, StapledGoodDecidesWithoutFetching) {
  auto leaf = cert(0, "CN=leaf", {kOcsp}, {}, {good(RevocationSource::kStapledOcsp, "")});
  leaf.has_stapled_response = true;
  std::vector<CertificateRevocationFacts> path{leaf};
  const RevocationVerdict v = decideRevocation(path);
  EXPECT_EQ(v.kind, RevocationVerdict::Kind::kOk);
  EXPECT_EQ(describeRevocationState(v.certificates[0]), "good (stapled OCSP)");
}

TEST(RevocationDecision, UnknownOnlyWhenNoSourceAnswered) {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=leaf", {kOcsp}, {kCrl},
           {failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kRefused, "ECONNREFUSED"),
            failed(RevocationSource::kCrl, kCrl, SourceFailure::kTimeout)}),
      cert(1, "CN=int", {kOcsp}, {}, {good(RevocationSource::kOcsp, kOcsp)})};
  const RevocationVerdict v = decideRevocation(path);
  EXPECT_EQ(v.kind, RevocationVerdict::Kind::kUnknown);
  EXPECT_EQ(v.deciding, 0u);
  EXPECT_EQ(v.certificates[0].answers.size(), 2u);
  EXPECT_EQ(describeRevocationState(v.certificates[1]), "good (OCSP)");
}

TEST(RevocationDecision, ARevokedCertificateAnywhereWinsOverAnUnknownOne) {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=leaf", {kOcsp}, {},
           {failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kHttpStatus, {}, 500)}),
      cert(1, "CN=int", {kOcsp}, {},
           {revoked(RevocationSource::kOcsp, kOcsp, kRevokedAt,
                    RevocationReasonCode::kCaCompromise)})};
  const RevocationVerdict v = decideRevocation(path);
  EXPECT_EQ(v.kind, RevocationVerdict::Kind::kRevoked);
  EXPECT_EQ(v.deciding, 1u);
}

TEST(RevocationDecision, TheFirstRevokedOnThePathIsNamed) {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=leaf", {kOcsp}, {},
           {revoked(RevocationSource::kOcsp, kOcsp, kRevokedAt,
                    RevocationReasonCode::kKeyCompromise)}),
      cert(1, "CN=int", {kOcsp}, {},
           {revoked(RevocationSource::kOcsp, kOcsp, kRevokedAt,
                    RevocationReasonCode::kCaCompromise)})};
  EXPECT_EQ(decideRevocation(path).deciding, 0u);
}

TEST(RevocationDecision, AnEmptyPathIsFine) {
  EXPECT_EQ(decideRevocation({}).kind, RevocationVerdict::Kind::kOk);
}

TEST(RevocationDecision, ReasonNames) {
  EXPECT_EQ(revocationReasonName(RevocationReasonCode::kKeyCompromise), "keyCompromise");
  EXPECT_EQ(revocationReasonName(RevocationReasonCode::kCaCompromise), "cACompromise");
  EXPECT_EQ(revocationReasonName(RevocationReasonCode::kRemoveFromCrl), "removeFromCRL");
  EXPECT_EQ(revocationReasonName(static_cast<RevocationReasonCode>(7)), "reason 7");
}

// --- the combination with the chain verdict --------------------------------------------------

ChainVerdict chainWith(std::optional<Reason> reason, bool trusted_path = true) {
  ChainVerdict v;
  v.reason = reason;
  v.details = reason ? "chain problem" : "verified: [0] CN=leaf <- trusted root CN=Root";
  if (trusted_path) {
    v.trusted_path = {{0, {}}, {-1, {}}};
  }
  return v;
}

RevocationVerdict revokedLeaf() {
  std::vector<CertificateRevocationFacts> path{cert(
      0, "CN=good.test,O=BHE Test", {kOcsp}, {},
      {revoked(RevocationSource::kOcsp, kOcsp, kRevokedAt, RevocationReasonCode::kKeyCompromise)})};
  return decideRevocation(path);
}

RevocationVerdict unknownLeaf() {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=good.test,O=BHE Test", {kOcsp}, {kCrl},
           {failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kRefused, "ECONNREFUSED"),
            failed(RevocationSource::kCrl, kCrl, SourceFailure::kTimeout)})};
  return decideRevocation(path);
}

RevocationVerdict goodLeaf() {
  std::vector<CertificateRevocationFacts> path{
      cert(0, "CN=good.test,O=BHE Test", {kOcsp}, {}, {good(RevocationSource::kOcsp, kOcsp)})};
  return decideRevocation(path);
}

TEST(RevocationPrecedence, RevocationRunsOnlyOnAnEstablishedPathAndWhenItCanMatter) {
  EXPECT_TRUE(revocationApplies(chainWith(std::nullopt)));
  EXPECT_TRUE(revocationApplies(chainWith(Reason::kTlsCnMismatch)));
  EXPECT_TRUE(revocationApplies(chainWith(Reason::kTlsCertVerificationFailed)));
  // Everything before tls_cert_revoked in the precedence order skips revocation.
  for (Reason r : {Reason::kTlsLeafMissing, Reason::kTlsLeafNotTopmost, Reason::kTlsCertExpired,
                   Reason::kTlsIntermediateMissing, Reason::kTlsCertNotPublicCa,
                   Reason::kTlsIntermediateNotPublicCa, Reason::kTlsTrustedRootMismatchNoRoot,
                   Reason::kTlsTrustedRootMismatch}) {
    EXPECT_FALSE(revocationApplies(chainWith(r))) << describe(r).name;
  }
  // An unparsable presented certificate: no path was built.
  EXPECT_FALSE(revocationApplies(chainWith(Reason::kTlsCertVerificationFailed, false)));
  EXPECT_FALSE(revocationApplies(chainWith(std::nullopt, false)));
}

TEST(RevocationPrecedence, RevokedWinsOverCnMismatchAndVerificationFailed) {
  for (auto chain_reason : {std::optional<Reason>(), std::optional(Reason::kTlsCnMismatch),
                            std::optional(Reason::kTlsCertVerificationFailed)}) {
    auto f = classifyRevocation(chainWith(chain_reason), revokedLeaf());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->reason, Reason::kTlsCertRevoked);
  }
}

TEST(RevocationPrecedence, CnMismatchAndVerificationFailedWinOverUnknown) {
  for (Reason chain_reason : {Reason::kTlsCnMismatch, Reason::kTlsCertVerificationFailed}) {
    auto f = classifyRevocation(chainWith(chain_reason), unknownLeaf());
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->reason, chain_reason);
    EXPECT_EQ(f->details, "chain problem");
  }
  auto f = classifyRevocation(chainWith(std::nullopt), unknownLeaf());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->reason, Reason::kTlsRevocationUnknown);
  EXPECT_EQ(describe(f->reason).state, HealthState::kUnknown);
}

TEST(RevocationPrecedence, GoodRevocationKeepsTheChainVerdict) {
  EXPECT_FALSE(classifyRevocation(chainWith(std::nullopt), goodLeaf()).has_value());
  auto f = classifyRevocation(chainWith(Reason::kTlsCnMismatch), goodLeaf());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->reason, Reason::kTlsCnMismatch);
}

TEST(RevocationDetails, RevokedNamesCertificateTimeAndReasonCode) {
  auto f = classifyRevocation(chainWith(std::nullopt), revokedLeaf());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->details,
            "the certificate at position 0 (CN=good.test,O=BHE Test) is revoked: OCSP "
            "http://127.0.0.1:1/int: revoked at 2026-01-01T00:00:00Z, reason keyCompromise (1)");
}

TEST(RevocationDetails, UnknownNamesEveryEndpointAndHowItFailed) {
  auto f = classifyRevocation(chainWith(std::nullopt), unknownLeaf());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->details,
            "the revocation status of the certificate at position 0 (CN=good.test,O=BHE Test) "
            "could not be learned: OCSP http://127.0.0.1:1/int: connection refused (ECONNREFUSED); "
            "CRL http://127.0.0.1:2/int.crl: no complete answer within the probe's remaining "
            "time (timeout)");
}

TEST(RevocationDetails, EveryFailureKindIsWorded) {
  EXPECT_EQ(describeSourceAnswer(
                failed(RevocationSource::kCrl, kCrl, SourceFailure::kHttpStatus, {}, 404)),
            "CRL http://127.0.0.1:2/int.crl: HTTP status 404");
  EXPECT_EQ(describeSourceAnswer(failed(RevocationSource::kOcsp, kOcsp,
                                        SourceFailure::kBadSignature, "not signed by the issuer")),
            "OCSP http://127.0.0.1:1/int: badly signed response (not signed by the issuer)");
  EXPECT_EQ(describeSourceAnswer(failed(RevocationSource::kOcsp, kOcsp,
                                        SourceFailure::kResponderStatus, "tryLater")),
            "OCSP http://127.0.0.1:1/int: the responder answered tryLater");
  EXPECT_EQ(describeSourceAnswer(
                failed(RevocationSource::kOcsp, kOcsp, SourceFailure::kUnparsable, "not DER")),
            "OCSP http://127.0.0.1:1/int: unparsable response (not DER)");
  EXPECT_EQ(
      describeSourceAnswer(revoked(RevocationSource::kStapledOcsp, "", kRevokedAt, std::nullopt)),
      "stapled OCSP: revoked at 2026-01-01T00:00:00Z, no reason code");
}

}  // namespace
}  // namespace bhe
