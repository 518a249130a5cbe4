// Trust anchors: signer lookup by name AND signature, exact membership, bundle loading.
#include "pki/trust_anchors.h"

#include <gtest/gtest.h>

#include "tls_test_support.h"

namespace bhe {
namespace {

using test::anchorsFrom;
using test::loadCert;

TEST(TrustAnchors, FindsTheAnchorThatSignedACertificate) {
  auto anchors = anchorsFrom({"root2.pem", "root.pem"});
  ASSERT_EQ(anchors->size(), 2u);
  auto intermediate = Certificate::parse(loadCert("int.pem"));
  const Certificate* signer = anchors->findIssuerOf(*intermediate);
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->subject(), "CN=BHE Test Root CA,O=BHE Test");
  // The leaf was signed by the intermediate, not by an anchor.
  EXPECT_EQ(anchors->findIssuerOf(*Certificate::parse(loadCert("good.pem"))), nullptr);
}

TEST(TrustAnchors, NameMatchWithoutSignatureIsNotASigner) {
  auto anchors = anchorsFrom({"root-impostor.pem"});
  auto intermediate = Certificate::parse(loadCert("int.pem"));
  EXPECT_EQ(anchors->findIssuerOf(*intermediate), nullptr);
  ASSERT_EQ(anchors->withSubjectNamedAsIssuerOf(*intermediate).size(), 1u);
}

TEST(TrustAnchors, SameNameTwoKeysPicksTheOneThatSigned) {
  auto anchors = anchorsFrom({"root-impostor.pem", "root.pem"});
  auto intermediate = Certificate::parse(loadCert("int.pem"));
  const Certificate* signer = anchors->findIssuerOf(*intermediate);
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->der(), loadCert("root.pem"));
}

TEST(TrustAnchors, ExactMembership) {
  auto anchors = anchorsFrom({"root.pem"});
  EXPECT_TRUE(anchors->contains(*Certificate::parse(loadCert("root.pem"))));
  EXPECT_FALSE(anchors->contains(*Certificate::parse(loadCert("root-impostor.pem"))));
}

TEST(TrustAnchors, DuplicatesAndGarbageInInput) {
  std::vector<Der> input = {loadCert("root.pem"), loadCert("root.pem"), Der{0x30, 0x00}};
  auto anchors = TrustAnchors::fromCertificates(input);
  EXPECT_EQ(anchors->size(), 1u);
  EXPECT_EQ(anchors->skipped(), 1u);
}

TEST(TrustAnchors, FromBundleFile) {
  std::string error;
  auto anchors = TrustAnchors::fromFile(test::pkiPath("well-known-bundle.pem"), &error);
  ASSERT_NE(anchors, nullptr) << error;
  EXPECT_TRUE(anchors->contains(*Certificate::parse(loadCert("root.pem"))));
  EXPECT_NE(anchors->findIssuerOf(*Certificate::parse(loadCert("int.pem"))), nullptr);
  EXPECT_EQ(anchors->findIssuerOf(*Certificate::parse(loadCert("int2.pem"))), nullptr);
}

TEST(TrustAnchors, FromMissingFile) {
  std::string error;
  EXPECT_EQ(TrustAnchors::fromFile(test::pkiPath("nope.pem"), &error), nullptr);
  EXPECT_EQ(error, "cannot read: No such file or directory");
}

}  // namespace
}  // namespace bhe
