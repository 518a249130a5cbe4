// Reading uploaded certificate files: PEM, base64 .cer, DER, and every way they can be wrong.
#include "pki/certificate_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "tls_test_support.h"

namespace bhe {
namespace {

using test::pkiPath;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads on another thread, so that a read that blocks (on a FIFO) fails the test instead of
// hanging it; the blocked thread cannot be cancelled, so the process exits.
CertificateFile readWithin(const std::string& path, bool lenient) {
  auto reading = std::async(std::launch::async, [=] { return readCertificateFile(path, lenient); });
  if (reading.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fprintf(stderr, "FAILED: reading %s blocked for 10 s\n", path.c_str());
    std::_Exit(1);
  }
  return reading.get();
}

class CertificateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bhe-certfile-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(CertificateFileTest, PemWithOneCertificate) {
  auto f = readCertificateFile(pkiPath("root.pem"));
  ASSERT_TRUE(f.ok()) << f.error;
  ASSERT_EQ(f.certificates.size(), 1u);
  EXPECT_EQ(f.certificates[0], readCertificateFile(pkiPath("root.der")).certificates.at(0));
}

TEST_F(CertificateFileTest, PemWithSeveralCertificatesKeepsFileOrder) {
  auto f = readCertificateFile(pkiPath("chain-root-int.pem"));
  ASSERT_TRUE(f.ok()) << f.error;
  ASSERT_EQ(f.certificates.size(), 2u);
  EXPECT_EQ(Certificate::parse(f.certificates[0])->subject(), "CN=BHE Test Root CA,O=BHE Test");
  EXPECT_EQ(Certificate::parse(f.certificates[1])->subject(),
            "CN=BHE Test Intermediate CA,O=BHE Test");
}

TEST_F(CertificateFileTest, PemWithCrLfAndSurroundingText) {
  std::string pem = slurp(pkiPath("root.pem"));
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') {
      crlf += '\r';
    }
    crlf += c;
  }
  auto f = readCertificateFile(write("crlf.pem", "Bag Attributes: x\r\n" + crlf + "trailer\r\n"));
  ASSERT_TRUE(f.ok()) << f.error;
  EXPECT_EQ(f.certificates.size(), 1u);
}

TEST_F(CertificateFileTest, Base64CerWithoutArmor) {
  auto f = readCertificateFile(pkiPath("root.cer"));
  ASSERT_TRUE(f.ok()) << f.error;
  ASSERT_EQ(f.certificates.size(), 1u);
  EXPECT_EQ(f.certificates[0], test::loadCert("root.pem"));
}

TEST_F(CertificateFileTest, DerSingleAndConcatenated) {
  auto one = readCertificateFile(pkiPath("root.der"));
  ASSERT_TRUE(one.ok()) << one.error;
  ASSERT_EQ(one.certificates.size(), 1u);
  const Der root = one.certificates[0];
  const Der in = test::loadCert("int.pem");
  std::string both(root.begin(), root.end());
  both.append(in.begin(), in.end());
  auto two = readCertificateFile(write("two.der", both));
  ASSERT_TRUE(two.ok()) << two.error;
  ASSERT_EQ(two.certificates.size(), 2u);
  EXPECT_EQ(two.certificates[1], in);
}

TEST_F(CertificateFileTest, MissingFile) {
  auto f = readCertificateFile(pkiPath("does-not-exist.pem"));
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.error, "cannot read: No such file or directory");
  EXPECT_TRUE(f.certificates.empty());
}

TEST_F(CertificateFileTest, Directory) {
  auto f = readCertificateFile(dir_.string());
  EXPECT_EQ(f.error, "cannot read: it is a directory, not a regular file");
}

TEST_F(CertificateFileTest, FifoAndDevicesAreRefusedWithoutReading) {
  // A FIFO used to block the read (and with it the probe loop), /dev/zero to fill memory up to
  // the size limit before failing.
  const std::string fifo = (dir_ / "fifo.pem").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(readWithin(fifo, /*lenient=*/false).error,
            "cannot read: it is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(readWithin(fifo, /*lenient=*/true).error,
            "cannot read: it is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(readWithin("/dev/zero", /*lenient=*/true).error,
            "cannot read: it is a character device, not a regular file");
}

TEST_F(CertificateFileTest, SizeLimitsOfCertificateFilesAndBundles) {
  // The same valid PEM, padded with text PEM allows between blocks, around each limit.
  const std::string pem = slurp(pkiPath("root.pem"));
  auto padded = [&](std::size_t size) {
    return write("padded-" + std::to_string(size) + ".pem",
                 pem + std::string(size - pem.size() - 1, 'x') + "\n");
  };
  EXPECT_TRUE(readCertificateFile(padded(kMaxCertificateFileBytes)).ok());
  EXPECT_EQ(readCertificateFile(padded(kMaxCertificateFileBytes + 1)).error,
            "cannot read: it is larger than 1 MiB, the limit for a certificate file (it has " +
                std::to_string(kMaxCertificateFileBytes + 1) + " bytes)");
  // A bundle may be larger: Debian's is about 215 KiB, 16 MiB leaves room for local additions.
  EXPECT_TRUE(readCertificateFile(padded(kMaxCertificateFileBytes + 1), /*lenient=*/true).ok());
  EXPECT_TRUE(readCertificateFile(padded(kMaxCaBundleBytes), /*lenient=*/true).ok());
  EXPECT_EQ(readCertificateFile(padded(kMaxCaBundleBytes + 1), /*lenient=*/true).error,
            "cannot read: it is larger than 16 MiB, the limit for a CA bundle (it has " +
                std::to_string(kMaxCaBundleBytes + 1) + " bytes)");
}

TEST_F(CertificateFileTest, TheSystemBundleFitsItsLimit) {
  const std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(system_bundle)) {
    GTEST_SKIP() << system_bundle << " is not installed";
  }
  EXPECT_LT(std::filesystem::file_size(system_bundle), kMaxCaBundleBytes);
  EXPECT_TRUE(readCertificateFile(system_bundle, /*lenient=*/true).ok());
}

TEST_F(CertificateFileTest, EmptyFile) {
  EXPECT_EQ(readCertificateFile(write("empty.pem", "")).error, "empty file");
}

TEST_F(CertificateFileTest, GarbageIsNotACertificate) {
  EXPECT_EQ(readCertificateFile(pkiPath("not-a-cert.txt")).error,
            "not a certificate (no PEM, base64 or DER X.509 found)");
  // Valid base64, but of something that is not a certificate.
  EXPECT_EQ(readCertificateFile(write("b64.cer", "aGVsbG8gd29ybGQ=\n")).error,
            "not a certificate (no PEM, base64 or DER X.509 found)");
  // A DER SEQUENCE that is not a certificate.
  EXPECT_EQ(readCertificateFile(write("seq.der", std::string("\x30\x03\x02\x01\x05", 5))).error,
            "not a certificate (no PEM, base64 or DER X.509 found)");
}

TEST_F(CertificateFileTest, PemWithOnlyAPrivateKey) {
  EXPECT_EQ(readCertificateFile(pkiPath("key-only.pem")).error,
            "not a certificate (PEM holds PRIVATE KEY, no CERTIFICATE)");
}

TEST_F(CertificateFileTest, CorruptedPemBlockIsReportedByNumber) {
  std::string chain = slurp(pkiPath("chain-int-root.pem"));
  // Damage the second block's body: drop a chunk of base64 from its middle.
  const auto second = chain.find("-----BEGIN CERTIFICATE-----", 10);
  ASSERT_NE(second, std::string::npos);
  chain.erase(second + 100, 40);
  EXPECT_EQ(readCertificateFile(write("bad.pem", chain)).error,
            "PEM block 2 (CERTIFICATE) is not a valid X.509 certificate");
  // Lenient (CA bundles): the bad block is skipped and counted.
  auto lenient = readCertificateFile(write("bad2.pem", chain), /*lenient=*/true);
  ASSERT_TRUE(lenient.ok()) << lenient.error;
  EXPECT_EQ(lenient.certificates.size(), 1u);
  EXPECT_EQ(lenient.skipped, 1u);
}

TEST_F(CertificateFileTest, UnterminatedPemBlock) {
  std::string pem = slurp(pkiPath("root.pem"));
  pem.erase(pem.find("-----END"));
  EXPECT_EQ(readCertificateFile(write("cut.pem", pem)).error,
            "PEM block 1 (CERTIFICATE) has no END line");
}

TEST_F(CertificateFileTest, CaDetection) {
  EXPECT_TRUE(isCaCertificate(test::loadCert("root.pem")));
  EXPECT_TRUE(isCaCertificate(test::loadCert("int.pem")));
  EXPECT_FALSE(isCaCertificate(test::loadCert("good.pem")));
  EXPECT_FALSE(isCaCertificate(test::loadCert("selfsigned.pem")));
  EXPECT_FALSE(isCaCertificate(Der{0x30, 0x00}));
}

TEST_F(CertificateFileTest, TrustedRootFileMustHoldOnlyCaCertificates) {
  EXPECT_EQ(checkTrustedRootFile(readCertificateFile(pkiPath("root.pem"))), "");
  EXPECT_EQ(checkTrustedRootFile(readCertificateFile(pkiPath("chain-int-root.pem"))), "");
  EXPECT_EQ(checkTrustedRootFile(readCertificateFile(pkiPath("selfsigned.pem"))),
            "certificate 1 of 1 (CN=good.test,O=BHE Test) is not a CA certificate "
            "(basicConstraints CA:FALSE)");
  EXPECT_EQ(checkTrustedRootFile(readCertificateFile(pkiPath("chain-root-leaf.pem"))),
            "certificate 2 of 2 (CN=good.test,O=BHE Test) is not a CA certificate "
            "(basicConstraints CA:FALSE)");
}

TEST_F(CertificateFileTest, BundleWithSystemCertificates) {
  auto f = readCertificateFile(pkiPath("well-known-bundle.pem"), /*lenient=*/true);
  ASSERT_TRUE(f.ok()) << f.error;
  EXPECT_GE(f.certificates.size(), 1u);
  EXPECT_EQ(f.certificates.back(), test::loadCert("root.pem"));
}

}  // namespace
}  // namespace bhe
