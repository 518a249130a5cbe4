// client_certificate / client_key in the configuration: files relative to the config file,
// every problem at the position of the key's value, and the identity shared by the targets.
// Built into the TLS test binary for the PKI generated at test time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/targets.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

// A config "in" the PKI directory, so relative paths name its files.
std::string configPath() {
  return test::pkiPath("bhe.toml");
}

std::vector<std::string> errorsOf(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parseConfig(text, configPath()).errors) {
    out.push_back(e.str());
  }
  return out;
}

TEST(ConfigClientCertificate, LoadedRelativeToTheConfigAndSharedByTargets) {
  ConfigLoad load = parseConfig(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5", "10.0.0.6"]
backend_settings = ["mtls"]
[[backend_pool]]
name = "b"
servers = ["10.0.0.7"]
backend_settings = ["mtls", "combined"]
[[backend_settings]]
name = "mtls"
protocol = "https"
client_certificate = "client-chain.pem"
client_key = "client.key"
[[backend_settings]]
name = "combined"
protocol = "https"
client_certificate = "client-combined.pem"
client_key = "./client-combined.pem"
)",
                                configPath());
  ASSERT_TRUE(load.config) << load.errors.at(0).str();
  const BackendSettingsConfig& s = *load.config->findSettings("mtls");
  EXPECT_EQ(s.client_certificate, test::pkiPath("client-chain.pem"));
  EXPECT_EQ(s.client_key, test::pkiPath("client.key"));
  ASSERT_NE(s.client_identity, nullptr);
  EXPECT_EQ(s.client_identity->certificates.size(), 2u);
  EXPECT_EQ(s.client_identity->subject, "CN=bhe-probe,O=BHE Test");

  auto targets = expandTargets(*load.config);
  ASSERT_EQ(targets.size(), 4u);
  EXPECT_EQ(targets[0].client_identity, s.client_identity);  // the same object, not a copy
  EXPECT_EQ(targets[1].client_identity, s.client_identity);
  EXPECT_EQ(targets[2].client_identity, s.client_identity);
  EXPECT_EQ(targets[3].client_identity, load.config->findSettings("combined")->client_identity);
  EXPECT_NE(targets[3].client_identity, nullptr);
}

TEST(ConfigClientCertificate, EveryProblemAtItsValue) {
  const std::string f = configPath();
  EXPECT_THAT(
      errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["missing", "der", "key-as-cert", "server-auth", "other-key", "cert-as-key", "encrypted"]
[[backend_settings]]
name = "missing"
protocol = "https"
client_certificate = "nope.pem"
client_key = "nope.key"
[[backend_settings]]
name = "der"
protocol = "https"
client_certificate = "root.der"
client_key = "client.key"
[[backend_settings]]
name = "key-as-cert"
protocol = "https"
client_certificate = "client.key"
client_key = "client.key"
[[backend_settings]]
name = "server-auth"
protocol = "https"
client_certificate = "client-serverauth.pem"
client_key = "client.key"
[[backend_settings]]
name = "other-key"
protocol = "https"
client_certificate = "client.pem"
client_key = "client-other.key"
[[backend_settings]]
name = "cert-as-key"
protocol = "https"
client_certificate = "client.pem"
client_key = "client.pem"
[[backend_settings]]
name = "encrypted"
protocol = "https"
client_certificate = "client.pem"
client_key = "client-encrypted.key"
)"),
      ElementsAre(
          f + ":8:22: [[backend_settings]] \"missing\".client_certificate \"nope.pem\": cannot "
              "read: No such file or directory",
          f + ":9:14: [[backend_settings]] \"missing\".client_key \"nope.key\": cannot read: No "
              "such file or directory",
          f + ":13:22: [[backend_settings]] \"der\".client_certificate \"root.der\": not PEM "
              "(expected -----BEGIN CERTIFICATE-----)",
          f + ":18:22: [[backend_settings]] \"key-as-cert\".client_certificate \"client.key\": "
              "not a certificate (PEM holds PRIVATE KEY, no CERTIFICATE)",
          f + ":23:22: [[backend_settings]] \"server-auth\".client_certificate "
              "\"client-serverauth.pem\": the certificate (CN=bhe-probe-serverauth,O=BHE Test) "
              "has an extendedKeyUsage without clientAuth (serverAuth): TLS servers refuse it as "
              "a client certificate",
          f + ":29:14: [[backend_settings]] \"other-key\".client_key \"client-other.key\": does "
              "not match the certificate (CN=bhe-probe,O=BHE Test): a signature made with this "
              "key does not verify with the certificate's public key",
          f + ":34:14: [[backend_settings]] \"cert-as-key\".client_key \"client.pem\": not a "
              "private key (PEM holds CERTIFICATE, no PRIVATE KEY)",
          f + ":39:14: [[backend_settings]] \"encrypted\".client_key \"client-encrypted.key\": PEM "
              "block 1 (ENCRYPTED PRIVATE KEY) is encrypted; there is no passphrase setting: "
              "store the key unencrypted, readable only by the exporter"));
}

TEST(ConfigClientCertificate, DirectoryIsUnreadable) {
  EXPECT_THAT(errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s"]
[[backend_settings]]
name = "s"
protocol = "https"
client_certificate = "."
client_key = "client.key"
)"),
              ElementsAre(StartsWith(configPath() +
                                     ":8:22: [[backend_settings]] \"s\".client_certificate \".\": "
                                     "cannot read: ")));
}

}  // namespace
}  // namespace bhe
