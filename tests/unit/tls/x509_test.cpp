// Certificate parsing details and RFC 6125 host matching.
#include <gtest/gtest.h>

#include "probe/tls/host_match.h"

#include "common/time_format.h"
#include "probe/tls/verify_error.h"
#include "probe/tls/x509.h"
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
  EXPECT_TRUE(certificateMatchesHost(*c, "mixed.test"));
  EXPECT_FALSE(certificateMatchesHost(*c, "mixed-cn.test"));  // a DNS SAN exists
  EXPECT_TRUE(certificateMatchesHost(*c, "10.0.0.1"));
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

TEST(HostMatch, DnsNamePatterns) {
  EXPECT_TRUE(dnsNameMatches("api.example.com", "API.Example.COM"));
  EXPECT_TRUE(dnsNameMatches("api.example.com.", "api.example.com"));
  EXPECT_TRUE(dnsNameMatches("api.example.com", "api.example.com."));
  EXPECT_FALSE(dnsNameMatches("api.example.com", "example.com"));
  EXPECT_TRUE(dnsNameMatches("*.example.com", "api.example.com"));
  EXPECT_TRUE(dnsNameMatches("*.Example.com", "API.example.COM"));
  EXPECT_FALSE(dnsNameMatches("*.example.com", "example.com"));
  EXPECT_FALSE(dnsNameMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(dnsNameMatches("*.example.com", ".example.com"));
  EXPECT_FALSE(dnsNameMatches("*.com", "example.com"));               // too broad
  EXPECT_FALSE(dnsNameMatches("f*.example.com", "foo.example.com"));  // partial label
  EXPECT_FALSE(dnsNameMatches("api.*.com", "api.example.com"));
  EXPECT_FALSE(dnsNameMatches("*.*.example.com", "a.b.example.com"));
  EXPECT_FALSE(dnsNameMatches("*", "localhost"));
  EXPECT_FALSE(dnsNameMatches("", ""));
}

TEST(HostMatch, CertificateIdentities) {
  auto good = Certificate::parse(test::loadCert("good.pem"));
  EXPECT_TRUE(certificateMatchesHost(*good, "good.test"));
  EXPECT_TRUE(certificateMatchesHost(*good, "LOCALHOST"));
  EXPECT_TRUE(certificateMatchesHost(*good, "127.0.0.1"));
  EXPECT_TRUE(certificateMatchesHost(*good, "::1"));
  EXPECT_TRUE(certificateMatchesHost(*good, "[::1]"));
  EXPECT_TRUE(certificateMatchesHost(*good, "0:0::1"));
  EXPECT_FALSE(certificateMatchesHost(*good, "127.0.0.2"));
  EXPECT_FALSE(certificateMatchesHost(*good, "bad.test"));
  EXPECT_EQ(describeCertificateNames(*good),
            "SAN DNS:good.test, DNS:localhost, IP:127.0.0.1, IP:::1");

  auto cnonly = Certificate::parse(test::loadCert("cnonly.pem"));
  EXPECT_FALSE(cnonly->hasSubjectAltName());
  EXPECT_TRUE(certificateMatchesHost(*cnonly, "cnonly.test"));
  EXPECT_EQ(describeCertificateNames(*cnonly), "no DNS SAN, CN=cnonly.test");

  auto sanonly = Certificate::parse(test::loadCert("sanonly.pem"));
  EXPECT_FALSE(certificateMatchesHost(*sanonly, "san-only-cn.test"));
  EXPECT_TRUE(certificateMatchesHost(*sanonly, "sanonly.test"));
}

TEST(HostMatch, IpLiterals) {
  EXPECT_TRUE(isIpHost("10.0.0.5"));
  EXPECT_TRUE(isIpHost("::1"));
  EXPECT_TRUE(isIpHost("[fe80::1]"));
  EXPECT_FALSE(isIpHost("good.test"));
  EXPECT_FALSE(isIpHost("10.0.0"));
  EXPECT_FALSE(isIpHost(""));
}

TEST(VerifyErrors, OwnTextTable) {
  EXPECT_EQ(verifyErrorText(10), "certificate has expired");
  EXPECT_EQ(verifyErrorText(14), "format error in certificate's notAfter field");
  EXPECT_EQ(verifyErrorText(18), "self-signed certificate");
  EXPECT_EQ(verifyErrorText(20), "unable to get local issuer certificate");
  EXPECT_EQ(verifyErrorText(21), "unable to verify the first certificate");
  EXPECT_EQ(verifyErrorText(24), "invalid CA certificate");
  EXPECT_NE(verifyErrorText(-322).find("name"), std::string::npos) << verifyErrorText(-322);
  EXPECT_NE(verifyErrorText(-151).find("date"), std::string::npos) << verifyErrorText(-151);
  EXPECT_EQ(verifyErrorText(100000), "unknown verification error");
  EXPECT_TRUE(isJudgedByChainAnalysis(20));
  EXPECT_TRUE(isJudgedByChainAnalysis(-322));
  EXPECT_FALSE(isJudgedByChainAnalysis(7));
  EXPECT_FALSE(isJudgedByChainAnalysis(24));
}

}  // namespace
}  // namespace bhe
