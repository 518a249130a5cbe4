// OCSP and CRL judgement over wolfSSL on the revocation PKI of
// tests/fixtures/tls/make-revocation-pki.sh (responses and CRLs made by `openssl ocsp` and
// `openssl ca -gencrl` at test time).
#include "probe/revocation/revocation_check.h"

#include <gtest/gtest.h>
#include <ctime>

#include "probe/revocation/der_reader.h"
#include "revocation_pki.h"

namespace bhe {
namespace {

using test::revocation_pki::bytes;
using test::revocation_pki::cert;

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

using Outcome = SourceAnswer::Outcome;

TEST(RevocationEndpoints, ReadFromAiaAndCrlDistributionPoints) {
  const RevocationEndpoints good = readRevocationEndpoints(cert("rv-good.pem"));
  ASSERT_EQ(good.ocsp_urls.size(), 1u);
  EXPECT_EQ(good.ocsp_urls[0], "http://127.0.0.1:9/int");
  ASSERT_EQ(good.crl_urls.size(), 1u);
  EXPECT_EQ(good.crl_urls[0], "http://127.0.0.1:9/int.crl");

  const RevocationEndpoints intermediate = readRevocationEndpoints(cert("rv-int.pem"));
  EXPECT_EQ(intermediate.ocsp_urls, std::vector<std::string>{"http://127.0.0.1:9/root"});
  EXPECT_EQ(intermediate.crl_urls, std::vector<std::string>{"http://127.0.0.1:9/root.crl"});

  const RevocationEndpoints none = readRevocationEndpoints(cert("rv-norev.pem"));
  EXPECT_TRUE(none.ocsp_urls.empty());
  EXPECT_TRUE(none.crl_urls.empty());

  const RevocationEndpoints crl_only = readRevocationEndpoints(cert("rv-crl-short.pem"));
  EXPECT_TRUE(crl_only.ocsp_urls.empty());
  EXPECT_EQ(crl_only.crl_urls, std::vector<std::string>{"http://127.0.0.1:9/int-short.crl"});
}

TEST(OcspRequest, IsADerRequestForTheCertificate) {
  const std::string request = buildOcspRequest(cert("rv-good.pem"), cert("rv-int.pem"));
  ASSERT_FALSE(request.empty());
  EXPECT_EQ(static_cast<unsigned char>(request[0]), 0x30);  // a SEQUENCE
  // Deterministic (no nonce): equal requests share one cached answer.
  EXPECT_EQ(request, buildOcspRequest(cert("rv-good.pem"), cert("rv-int.pem")));
  EXPECT_NE(request, buildOcspRequest(cert("rv-revoked.pem"), cert("rv-int.pem")));
}

TEST(OcspResponse, GoodAndRevokedWithTimeAndReason) {
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer good =
      checkOcspResponse(bytes("ocsp-rv-good.der"), cert("rv-good.pem"), path, now());
  EXPECT_EQ(good.answer.outcome, Outcome::kGood) << good.answer.failure_detail;
  ASSERT_TRUE(good.next_update.has_value());
  EXPECT_GT(*good.next_update, now() + 3600);  // -ndays 1

  CheckedAnswer revoked =
      checkOcspResponse(bytes("ocsp-rv-revoked.der"), cert("rv-revoked.pem"), path, now());
  ASSERT_EQ(revoked.answer.outcome, Outcome::kRevoked) << revoked.answer.failure_detail;
  ASSERT_TRUE(revoked.answer.reason_code.has_value());
  EXPECT_EQ(*revoked.answer.reason_code, RevocationReasonCode::kKeyCompromise);
  ASSERT_TRUE(revoked.answer.revoked_at.has_value());
  EXPECT_LE(*revoked.answer.revoked_at, now());
  EXPECT_GT(*revoked.answer.revoked_at, now() - 3600);  // revoked while the PKI was made
}

TEST(OcspResponse, RevokedIntermediateFromTheRootsResponder) {
  const std::vector<Der> path{cert("rv-root.pem")};
  CheckedAnswer a =
      checkOcspResponse(bytes("ocsp-rv-int-revoked.der"), cert("rv-int-revoked.pem"), path, now());
  ASSERT_EQ(a.answer.outcome, Outcome::kRevoked);
  EXPECT_EQ(a.answer.reason_code, RevocationReasonCode::kCaCompromise);
  EXPECT_EQ(
      checkOcspResponse(bytes("ocsp-rv-int.der"), cert("rv-int.pem"), path, now()).answer.outcome,
      Outcome::kGood);
}

TEST(OcspResponse, SignedByAnUnrelatedKeyIsBadlySigned) {
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer a =
      checkOcspResponse(bytes("ocsp-rv-good-badsig.der"), cert("rv-good.pem"), path, now());
  EXPECT_EQ(a.answer.outcome, Outcome::kFailed);
  EXPECT_EQ(a.answer.failure, SourceFailure::kBadSignature);
  EXPECT_NE(a.answer.failure_detail.find("BHE Unrelated OCSP Signer"), std::string::npos)
      << a.answer.failure_detail;
}

TEST(OcspResponse, SignedByTheRootForACertificateTheIntermediateIssuedIsRejected) {
  // wolfSSL itself would accept it (the root is a trusted CA); RFC 6960 does not.
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer a =
      checkOcspResponse(bytes("ocsp-rv-good-by-root.der"), cert("rv-good.pem"), path, now());
  EXPECT_EQ(a.answer.outcome, Outcome::kFailed);
  EXPECT_EQ(a.answer.failure, SourceFailure::kBadSignature);
}

TEST(OcspResponse, ATamperedSignatureIsBadlySigned) {
  std::string response = bytes("ocsp-rv-good.der");
  // The signature BIT STRING sits before the included certificates; flip a byte in the middle
  // of the response's signature value by locating the ECDSA signature prefix after tbs.
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  bool detected = false;
  for (std::size_t i = response.size() / 3; i < response.size() && !detected; i += 7) {
    std::string copy = response;
    copy[i] = static_cast<char>(copy[i] ^ 0x01);
    CheckedAnswer a = checkOcspResponse(copy, cert("rv-good.pem"), path, now());
    EXPECT_NE(a.answer.outcome, Outcome::kRevoked);
    if (a.answer.outcome == Outcome::kFailed) {
      detected = true;
    }
  }
  EXPECT_TRUE(detected);
}

TEST(OcspResponse, AResponseAboutAnotherCertificateSaysNothing) {
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer a =
      checkOcspResponse(bytes("ocsp-rv-revoked.der"), cert("rv-good.pem"), path, now());
  EXPECT_EQ(a.answer.outcome, Outcome::kFailed);
  EXPECT_EQ(a.answer.failure, SourceFailure::kNoStatus);
}

TEST(OcspResponse, GarbageAndErrorStatuses) {
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer garbage = checkOcspResponse("<html>oops</html>", cert("rv-good.pem"), path, now());
  EXPECT_EQ(garbage.answer.failure, SourceFailure::kUnparsable);
  // OCSPResponse { responseStatus tryLater (3) }: what a busy responder sends.
  const std::string try_later("\x30\x03\x0a\x01\x03", 5);
  CheckedAnswer later = checkOcspResponse(try_later, cert("rv-good.pem"), path, now());
  EXPECT_EQ(later.answer.failure, SourceFailure::kResponderStatus);
  EXPECT_NE(later.answer.failure_detail.find("try"), std::string::npos)
      << later.answer.failure_detail;
}

TEST(OcspResponse, PastItsNextUpdateIsStale) {
  const std::vector<Der> path{cert("rv-int.pem"), cert("rv-root.pem")};
  CheckedAnswer a =
      checkOcspResponse(bytes("ocsp-rv-good.der"), cert("rv-good.pem"), path, now() + 3 * 86400);
  EXPECT_EQ(a.answer.failure, SourceFailure::kStale);
}

TEST(Crl, GoodRevokedWithReasonAndNotTheIssuers) {
  CheckedAnswer good =
      checkCrl(bytes("int.crl.der"), cert("rv-good.pem"), cert("rv-int.pem"), now());
  EXPECT_EQ(good.answer.outcome, Outcome::kGood) << good.answer.failure_detail;
  ASSERT_TRUE(good.next_update.has_value());

  CheckedAnswer revoked =
      checkCrl(bytes("int.crl.der"), cert("rv-crl-revoked.pem"), cert("rv-int.pem"), now());
  ASSERT_EQ(revoked.answer.outcome, Outcome::kRevoked);
  EXPECT_EQ(revoked.answer.reason_code, RevocationReasonCode::kSuperseded);
  ASSERT_TRUE(revoked.answer.revoked_at.has_value());
  EXPECT_LE(*revoked.answer.revoked_at, now());

  CheckedAnswer intermediate =
      checkCrl(bytes("root.crl.der"), cert("rv-int-revoked.pem"), cert("rv-root.pem"), now());
  ASSERT_EQ(intermediate.answer.outcome, Outcome::kRevoked);
  EXPECT_EQ(intermediate.answer.reason_code, RevocationReasonCode::kCaCompromise);

  // The root's CRL does not speak for what the intermediate issued.
  CheckedAnswer wrong =
      checkCrl(bytes("root.crl.der"), cert("rv-good.pem"), cert("rv-int.pem"), now());
  EXPECT_EQ(wrong.answer.outcome, Outcome::kFailed);
  EXPECT_EQ(wrong.answer.failure, SourceFailure::kBadSignature);
}

TEST(Crl, GarbageAndStale) {
  EXPECT_EQ(checkCrl("not a crl", cert("rv-good.pem"), cert("rv-int.pem"), now()).answer.failure,
            SourceFailure::kUnparsable);
  EXPECT_EQ(
      checkCrl(bytes("int.crl.der"), cert("rv-good.pem"), cert("rv-int.pem"), now() + 3 * 86400)
          .answer.failure,
      SourceFailure::kStale);
  const auto next = crlNextUpdate(bytes("int.crl.der"));
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, now());
  EXPECT_FALSE(crlNextUpdate("garbage").has_value());
}

TEST(DerReader, TimesAndBounds) {
  const std::string utc = "260101000000Z";
  DerTlv t{0x17, {reinterpret_cast<const std::uint8_t*>(utc.data()), utc.size()}};
  EXPECT_EQ(derTimeToUnix(t), 1767225600);
  const std::string gen = "20260101000000Z";
  DerTlv g{0x18, {reinterpret_cast<const std::uint8_t*>(gen.data()), gen.size()}};
  EXPECT_EQ(derTimeToUnix(g), 1767225600);
  // A length that runs past the end is refused, not read.
  const std::uint8_t truncated[] = {0x30, 0x82, 0x10, 0x00, 0x01};
  DerReader r(truncated);
  EXPECT_FALSE(r.next().has_value());
  EXPECT_TRUE(r.atEnd());
}

}  // namespace
}  // namespace bhe
