// RFC 6125 host matching and the verification error table of the TLS phase.
#include <gtest/gtest.h>

#include "pki/x509.h"
#include "probe/tls/host_match.h"
#include "probe/tls/verify_error.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

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

TEST(HostMatch, MixedSanIdentities) {
  auto c = Certificate::parse(test::loadCert("mixedsan.pem"));
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(certificateMatchesHost(*c, "mixed.test"));
  EXPECT_FALSE(certificateMatchesHost(*c, "mixed-cn.test"));  // a DNS SAN exists
  EXPECT_TRUE(certificateMatchesHost(*c, "10.0.0.1"));
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
