// Certificate parsing details.
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "pki/x509.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

TEST(FormatUtc, Iso8601) {
  EXPECT_EQ(formatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatUtc(1609459200), "2021-01-01T00:00:00Z");
  EXPECT_EQ(formatUtc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatUtc(4102444799), "2099-12-31T23:59:59Z");
  EXPECT_EQ(formatUtc(-1), "1969-12-31T23:59:59Z");
}

TEST(Certificate, ParsesNamesDatesAndSans) {
  auto c = Certificate::parse(test::loadCert("good.pem"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->subject(), "CN=good.test,O=BHE Test");
  EXPECT_EQ(c->issuer(), "CN=BHE Test Intermediate CA,O=BHE Test");
  EXPECT_FALSE(c->isCa());
  EXPECT_TRUE(c->hasSubjectAltName());
  EXPECT_EQ(c->dnsNames(), (std::vector<std::string>{"good.test", "localhost"}));
  ASSERT_EQ(c->ipAddresses().size(), 2u);
  EXPECT_EQ(formatIpAddress(c->ipAddresses()[0]), "127.0.0.1");
  EXPECT_EQ(formatIpAddress(c->ipAddresses()[1]), "::1");
  EXPECT_EQ(c->commonNames(), (std::vector<std::string>{"good.test"}));

  auto expired = Certificate::parse(test::loadCert("expired.pem"));
  EXPECT_EQ(expired->notBefore(), 1577836800);  // 2020-01-01, UTCTime
  EXPECT_EQ(expired->notAfter(), 1609459200);
  auto notyet = Certificate::parse(test::loadCert("notyet.pem"));
  EXPECT_EQ(notyet->notBefore(), 4070908800);  // 2099-01-01, GeneralizedTime
  EXPECT_EQ(notyet->notAfter(), 4102444800);
}

TEST(Certificate, SanWithOtherNameTypesAndCriticalFlag) {
  // email, dirName and URI entries are skipped; a dirName once leaked inside wolfSSL's own SAN
  // decoder, which the sanitizer build would catch here.
  auto c = Certificate::parse(test::loadCert("mixedsan.pem"));
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->hasSubjectAltName());
  EXPECT_EQ(c->dnsNames(), (std::vector<std::string>{"mixed.test"}));
  ASSERT_EQ(c->ipAddresses().size(), 1u);
  EXPECT_EQ(formatIpAddress(c->ipAddresses()[0]), "10.0.0.1");
}

TEST(Certificate, SignatureAndSelfSignedChecks) {
  auto root = Certificate::parse(test::loadCert("root.pem"));
  auto impostor = Certificate::parse(test::loadCert("root-impostor.pem"));
  auto in = Certificate::parse(test::loadCert("int.pem"));
  auto selfsigned = Certificate::parse(test::loadCert("selfsigned.pem"));
  EXPECT_TRUE(root->isCa());
  EXPECT_TRUE(root->isSelfSigned());
  EXPECT_TRUE(in->isIssuedBy(*root));
  EXPECT_TRUE(in->issuerNameIs(*impostor));
  EXPECT_FALSE(in->signatureVerifiesWith(*impostor));
  EXPECT_FALSE(in->isIssuedBy(*impostor));
  EXPECT_FALSE(in->isSelfSigned());
  EXPECT_TRUE(selfsigned->isSelfSigned());
  EXPECT_FALSE(selfsigned->isCa());
}

TEST(Certificate, RejectsNonCertificates) {
  EXPECT_EQ(Certificate::parse(Der{}), nullptr);
  EXPECT_EQ(Certificate::parse(Der{0x30, 0x03, 0x02, 0x01, 0x00}), nullptr);
  Der with_trailer = test::loadCert("root.pem");
  with_trailer.push_back(0);
  EXPECT_EQ(Certificate::parse(with_trailer), nullptr);  // exactly one certificate
  Der truncated = test::loadCert("root.pem");
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(Certificate::parse(truncated), nullptr);
}

}  // namespace
}  // namespace bhe
