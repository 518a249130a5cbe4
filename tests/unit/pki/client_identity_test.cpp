// The client certificate and key of mutual TLS: every way the pair can be wrong, and a real
// handshake with a server that requires a client certificate from the client PKI.
// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
// clang-format on

#include "pki/client_identity.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "pki/certificate_file.h"
#include "tls_test_support.h"

namespace bhe {
namespace {

using test::pkiPath;

std::string slurp(const std::string& file) {
  std::ifstream in(pkiPath(file), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ClientIdentityParse parseFiles(const std::string& certificate, const std::string& key) {
  return parseClientIdentity(slurp(certificate), slurp(key));
}

constexpr const char* kClient = "the certificate (CN=bhe-probe,O=BHE Test)";

TEST(ClientIdentity, ChainAndKeyLoadIntoTheModel) {
  auto parsed = parseFiles("client-chain.pem", "client.key");
  ASSERT_TRUE(parsed.ok()) << parsed.certificate_error << " / " << parsed.key_error;
  const ClientIdentity& id = *parsed.identity;
  ASSERT_EQ(id.certificates.size(), 2u);
  EXPECT_EQ(id.certificates[0], test::loadCert("client.pem"));
  EXPECT_EQ(id.certificates[1], test::loadCert("client-int.pem"));
  EXPECT_EQ(id.subject, "CN=bhe-probe,O=BHE Test");
  EXPECT_EQ(id.not_after, Certificate::parse(test::loadCert("client.pem"))->notAfter());
  EXPECT_FALSE(id.private_key.empty());
}

TEST(ClientIdentity, AcceptedKeyFormsAndUsages) {
  // One file holding chain and key; the same key as SEC1 "EC PRIVATE KEY"; a certificate
  // without extendedKeyUsage (valid for any purpose).
  for (const auto& [certificate, key] : {std::pair{"client-combined.pem", "client-combined.pem"},
                                         {"client.pem", "client-sec1.key"},
                                         {"client-noeku.pem", "client.key"}}) {
    auto parsed = parseFiles(certificate, key);
    EXPECT_TRUE(parsed.ok()) << certificate << " + " << key << ": " << parsed.certificate_error
                             << " / " << parsed.key_error;
  }
}

TEST(ClientIdentity, ServerAuthOnlyCertificateIsRefused) {
  auto parsed = parseFiles("client-serverauth.pem", "client.key");
  EXPECT_EQ(parsed.certificate_error,
            "the certificate (CN=bhe-probe-serverauth,O=BHE Test) has an extendedKeyUsage "
            "without clientAuth (serverAuth): TLS servers refuse it as a client certificate");
  EXPECT_EQ(parsed.key_error, "");
  EXPECT_EQ(parsed.identity, nullptr);
}

TEST(ClientIdentity, KeyOfAnotherCertificateIsRefused) {
  // Same curve, different key: wolfSSL_CTX_check_private_key() would accept this pair.
  auto parsed = parseFiles("client.pem", "client-other.key");
  EXPECT_EQ(parsed.certificate_error, "");
  EXPECT_EQ(parsed.key_error,
            std::string("does not match ") + kClient +
                ": a signature made with this key does not verify with the certificate's public "
                "key");
  EXPECT_EQ(parsed.identity, nullptr);
}

TEST(ClientIdentity, KeyOfAnotherTypeIsRefused) {
  const std::string rsa = test::runAndCapture(
      "OPENSSL_CONF=/dev/null openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
      "2>/dev/null");
  ASSERT_NE(rsa.find("-----BEGIN PRIVATE KEY-----"), std::string::npos) << rsa;
  auto parsed = parseClientIdentity(slurp("client.pem"), rsa);
  EXPECT_EQ(parsed.key_error, std::string("does not match ") + kClient +
                                  ": this is an RSA key, the certificate holds an EC key");
}

TEST(ClientIdentity, WrongFiles) {
  struct Case {
    std::string certificate;
    std::string key;
    std::string certificate_error;
    std::string key_error;
  };
  const std::string der = slurp("root.der");
  const std::string two_keys = slurp("client.key") + slurp("client-other.key");
  std::string corrupt_key = slurp("client.key");
  corrupt_key.replace(corrupt_key.find('\n') + 1, 8, "AAAAAAAA");
  const Case cases[] = {
      {"", "", "empty file", "empty file"},
      {der, der, "not PEM (expected -----BEGIN CERTIFICATE-----)",
       "not PEM (expected -----BEGIN PRIVATE KEY-----)"},
      {slurp("client.key"), slurp("client-chain.pem"),
       "not a certificate (PEM holds PRIVATE KEY, no CERTIFICATE)",
       "not a private key (PEM holds CERTIFICATE, CERTIFICATE, no PRIVATE KEY)"},
      {slurp("client.pem"), slurp("client-encrypted.key"), "",
       "PEM block 1 (ENCRYPTED PRIVATE KEY) is encrypted; there is no passphrase setting: store "
       "the key unencrypted, readable only by the exporter"},
      {slurp("client.pem"), two_keys, "",
       "holds 2 private keys; keep only the one of the client certificate"},
      {slurp("client.pem"), corrupt_key, "",
       "PEM block 1 (PRIVATE KEY) is not a private key wolfSSL can use"},
      {slurp("not-a-cert.txt"), slurp("not-a-cert.txt"),
       "not PEM (expected -----BEGIN CERTIFICATE-----)",
       "not PEM (expected -----BEGIN PRIVATE KEY-----)"},
  };
  for (const auto& c : cases) {
    auto parsed = parseClientIdentity(c.certificate, c.key);
    EXPECT_EQ(parsed.certificate_error, c.certificate_error) << c.key_error;
    EXPECT_EQ(parsed.key_error, c.key_error) << c.certificate_error;
    EXPECT_EQ(parsed.identity, nullptr);
  }
}

// `openssl s_server` that completes a handshake only with a client certificate the client root
// verifies (-Verify + -verify_return_error), trusting that root alone: the client must send its
// intermediate.
class MutualTlsServer {
 public:
  MutualTlsServer() {
    int out[2];
    if (pipe(out) != 0) {
      throw std::runtime_error("pipe failed");
    }
    const std::string cert = pkiPath("good.pem");
    const std::string key = pkiPath("leaf.key");
    const std::string chain = pkiPath("chain-int.pem");
    const std::string client_root = pkiPath("client-root.pem");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      const int null = open("/dev/null", O_WRONLY);  // its verify log would clutter the output
      dup2(null, STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      setenv("OPENSSL_CONF", "/dev/null", 1);
      execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert.c_str(),
             "-key", key.c_str(), "-cert_chain", chain.c_str(), "-CAfile", client_root.c_str(),
             "-Verify", "3", "-verify_return_error", "-no-CApath", "-no-CAstore", "-www",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    std::string line;
    char c;
    while (read(out_, &c, 1) == 1) {
      if (c != '\n') {
        line += c;
      } else if (line.starts_with("ACCEPT")) {
        break;
      } else {
        line.clear();
      }
    }
    const auto colon = line.rfind(':');
    if (!line.starts_with("ACCEPT") || colon == std::string::npos) {
      throw std::runtime_error("openssl s_server did not start: '" + line + "'");
    }
    port_ = std::stoi(line.substr(colon + 1));
  }
  ~MutualTlsServer() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    close(out_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

// One blocking HTTPS GET with `identity` installed; the status line, or what failed.
std::string getWithClientCertificate(int port, const ClientIdentity& identity) {
  std::unique_ptr<WOLFSSL_CTX, decltype(&wolfSSL_CTX_free)> ctx(
      wolfSSL_CTX_new(wolfTLS_client_method()), &wolfSSL_CTX_free);
  wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);  // the server is not judged
  if (std::string refused = useClientIdentity(ctx.get(), identity); !refused.empty()) {
    return refused;
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval limit{30, 0};  // only so that a broken server cannot hang the test
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "connect failed";
  }
  std::unique_ptr<WOLFSSL, decltype(&wolfSSL_free)> ssl(wolfSSL_new(ctx.get()), &wolfSSL_free);
  wolfSSL_set_fd(ssl.get(), fd);
  std::string result;
  if (wolfSSL_connect(ssl.get()) != WOLFSSL_SUCCESS) {
    result = "handshake failed";
  } else {
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    wolfSSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
    char buffer[256];
    // TLS 1.3 sends the server's verdict on the client certificate after the handshake, so a
    // refusal shows up here as a failed read.
    const int n = wolfSSL_read(ssl.get(), buffer, sizeof(buffer));
    result = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "read failed";
    result = result.substr(0, result.find('\r'));
  }
  ssl.reset();
  close(fd);
  return result;
}

TEST(ClientIdentity, MutualTlsHandshakeSendsTheChain) {
  MutualTlsServer server;
  auto with_chain = parseFiles("client-chain.pem", "client.key");
  ASSERT_TRUE(with_chain.ok()) << with_chain.certificate_error << with_chain.key_error;
  EXPECT_EQ(getWithClientCertificate(server.port(), *with_chain.identity), "HTTP/1.0 200 ok");

  // The server trusts only the client root: the leaf alone does not verify there, which shows
  // the chain above is what made the difference.
  auto leaf_only = parseFiles("client.pem", "client.key");
  ASSERT_TRUE(leaf_only.ok());
  EXPECT_NE(getWithClientCertificate(server.port(), *leaf_only.identity), "HTTP/1.0 200 ok");
}

}  // namespace
}  // namespace bhe
