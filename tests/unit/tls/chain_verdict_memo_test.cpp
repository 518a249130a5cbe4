// The per-target chain verdict memo: reused only for the very same chain, anchors, mode, host and
// library errors, and only while `now` stays where the verdict holds; anything else is judged
// anew, on the very next call. Also the time span analyzeChain reports for its verdicts.
#include "probe/tls/chain_verdict_memo.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "tls_test_support.h"

namespace bhe {
namespace {

using test::anchorsFrom;
using test::loadCert;
using test::loadCerts;

std::string reasonName(const ChainVerdict& v) {
  return v.reason ? std::string(describe(*v.reason).name) : std::string("healthy");
}

std::int64_t notAfterOf(const std::string& file) {
  return Certificate::parse(loadCert(file))->notAfter();
}
std::int64_t notBeforeOf(const std::string& file) {
  return Certificate::parse(loadCert(file))->notBefore();
}

class MemoTest : public ::testing::Test {
 protected:
  ChainAnalysisInput input(const std::vector<Der>& chain, std::int64_t now) const {
    ChainAnalysisInput in;
    in.presented = chain;
    in.anchors = anchors_.get();
    in.mode = TrustMode::kPrivate;
    in.expected_host = "good.test";
    in.now = now;
    return in;
  }

  std::shared_ptr<const TrustAnchors> anchors_ = anchorsFrom({"root.pem"});
  std::vector<Der> good_ = loadCerts({"good.pem", "chain-int.pem"});
  std::int64_t now_ = std::time(nullptr);
  ChainVerdictMemo memo_;
};

TEST_F(MemoTest, SameChainIsJudgedOnceAndGivesTheSameVerdict) {
  const ChainVerdict first = memo_.analyze(input(good_, now_));
  EXPECT_FALSE(memo_.lastReused());
  EXPECT_TRUE(first.ok()) << first.details;
  const ChainVerdict& second = memo_.analyze(input(good_, now_ + 60));
  EXPECT_TRUE(memo_.lastReused());
  EXPECT_EQ(second.details, first.details);
  EXPECT_EQ(second.chain.size(), 2u);
  EXPECT_EQ(second.leaf_not_after, first.leaf_not_after);
  // A copy of the chain (other buffers, same bytes) is the same chain.
  const std::vector<Der> copy = good_;
  memo_.analyze(input(copy, now_));
  EXPECT_TRUE(memo_.lastReused());
}

TEST_F(MemoTest, AChangedChainIsJudgedOnTheVeryNextCall) {
  memo_.analyze(input(good_, now_));
  // Another certificate for the same name: the server switched certificates.
  const std::vector<Der> wrong = loadCerts({"wrongcn.pem", "chain-int.pem"});
  const ChainVerdict& switched = memo_.analyze(input(wrong, now_));
  EXPECT_FALSE(memo_.lastReused());
  EXPECT_EQ(reasonName(switched), "tls_cn_mismatch") << switched.details;
  // The intermediate is no longer sent.
  const std::vector<Der> leaf_only = loadCerts({"good.pem"});
  EXPECT_EQ(reasonName(memo_.analyze(input(leaf_only, now_))), "tls_intermediate_missing");
  EXPECT_FALSE(memo_.lastReused());
  // One byte differs (a broken signature).
  std::vector<Der> tampered = good_;
  tampered[0][tampered[0].size() - 1] ^= 0x01;
  const ChainVerdict& broken = memo_.analyze(input(tampered, now_));
  EXPECT_FALSE(memo_.lastReused());
  EXPECT_EQ(reasonName(broken), "tls_intermediate_missing") << broken.details;
  // And back to the good chain: judged again, healthy again.
  EXPECT_TRUE(memo_.analyze(input(good_, now_)).ok());
  EXPECT_FALSE(memo_.lastReused());
}

TEST_F(MemoTest, ACertificateThatExpiresIsJudgedExpiredTheSecondAfterItsNotAfter) {
  const std::vector<Der> soon = loadCerts({"expiring-soon.pem", "chain-int.pem"});
  const std::int64_t not_after = notAfterOf("expiring-soon.pem");
  EXPECT_TRUE(memo_.analyze(input(soon, now_)).ok());
  EXPECT_TRUE(memo_.analyze(input(soon, not_after)).ok());  // notAfter itself is still valid
  EXPECT_TRUE(memo_.lastReused());
  const ChainVerdict& expired = memo_.analyze(input(soon, not_after + 1));
  EXPECT_FALSE(memo_.lastReused());
  EXPECT_EQ(reasonName(expired), "tls_cert_expired") << expired.details;
  EXPECT_NE(expired.details.find("position 0"), std::string::npos) << expired.details;
  // Expired stays expired: that verdict is reused from then on.
  EXPECT_EQ(reasonName(memo_.analyze(input(soon, not_after + 3600))), "tls_cert_expired");
  EXPECT_TRUE(memo_.lastReused());
  // A clock set back into the window judges it anew.
  EXPECT_TRUE(memo_.analyze(input(soon, now_)).ok());
  EXPECT_FALSE(memo_.lastReused());
}

TEST_F(MemoTest, ANotYetValidCertificateIsJudgedAnewWhenItBecomesValid) {
  const std::vector<Der> notyet = loadCerts({"notyet.pem", "chain-int.pem"});
  const std::int64_t not_before = notBeforeOf("notyet.pem");
  EXPECT_EQ(reasonName(memo_.analyze(input(notyet, now_))), "tls_cert_expired");
  EXPECT_EQ(reasonName(memo_.analyze(input(notyet, not_before - 1))), "tls_cert_expired");
  EXPECT_TRUE(memo_.lastReused());
  // From notBefore on the leaf is valid; the 10-year intermediate has expired by then.
  const ChainVerdict& later = memo_.analyze(input(notyet, not_before));
  EXPECT_FALSE(memo_.lastReused());
  EXPECT_NE(later.details.find("position 1"), std::string::npos) << later.details;
}

TEST_F(MemoTest, AnExpiringTrustAnchorEndsTheReuseToo) {
  // leaf-direct is signed by the uploaded root, which is not presented: the anchor's own window
  // bounds the verdict.
  const std::vector<Der> direct = loadCerts({"leaf-direct.pem"});
  const ChainVerdict& v = memo_.analyze(input(direct, now_));
  ASSERT_TRUE(v.ok()) << v.details;
  EXPECT_EQ(v.holds_until, std::min(notAfterOf("leaf-direct.pem"), notAfterOf("root.pem")));
  EXPECT_EQ(v.holds_from, std::max(notBeforeOf("leaf-direct.pem"), notBeforeOf("root.pem")));
}

TEST_F(MemoTest, OtherAnchorsModeHostOrLibraryErrorsAreJudgedAnew) {
  memo_.analyze(input(good_, now_));

  // Equal content, but built anew (a reload): not the same anchors.
  auto reloaded = anchorsFrom({"root.pem"});
  ChainAnalysisInput in = input(good_, now_);
  in.anchors = reloaded.get();
  memo_.analyze(in);
  EXPECT_FALSE(memo_.lastReused());
  memo_.analyze(in);
  EXPECT_TRUE(memo_.lastReused());

  in.anchors = nullptr;
  EXPECT_EQ(reasonName(memo_.analyze(in)), "tls_trusted_root_mismatch_no_root");
  EXPECT_FALSE(memo_.lastReused());

  // The mode names the fault differently for the same chain and anchors.
  auto other_root = anchorsFrom({"root2.pem"});
  in = input(good_, now_);
  in.anchors = other_root.get();
  EXPECT_EQ(reasonName(memo_.analyze(in)), "tls_trusted_root_mismatch_no_root");
  in.mode = TrustMode::kWellKnown;
  EXPECT_EQ(reasonName(memo_.analyze(in)), "tls_intermediate_not_public_ca");
  EXPECT_FALSE(memo_.lastReused());

  in = input(good_, now_);
  in.expected_host = "other.test";
  EXPECT_EQ(reasonName(memo_.analyze(in)), "tls_cn_mismatch");
  EXPECT_FALSE(memo_.lastReused());

  in = input(good_, now_);
  const std::vector<VerifyError> errors = {{50, 0, "application verification failure"}};
  in.library_errors = errors;
  EXPECT_EQ(reasonName(memo_.analyze(in)), "tls_cert_verification_failed");
  EXPECT_FALSE(memo_.lastReused());
  in.library_errors = {};
  EXPECT_TRUE(memo_.analyze(in).ok());
  EXPECT_FALSE(memo_.lastReused());
}

TEST(ChainVerdictWindow, TimeIndependentVerdictsHoldForever) {
  ChainAnalysisInput in;
  const std::vector<Der> leaf_missing = loadCerts({"int.pem", "root.pem"});
  auto anchors = anchorsFrom({"root.pem"});
  in.presented = leaf_missing;
  in.anchors = anchors.get();
  in.mode = TrustMode::kPrivate;
  in.now = std::time(nullptr);
  const ChainVerdict v = analyzeChain(in);
  EXPECT_EQ(reasonName(v), "tls_leaf_missing");
  EXPECT_EQ(v.holds_from, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(v.holds_until, std::numeric_limits<std::int64_t>::max());
}

TEST(ChainVerdictWindow, HealthyChainHoldsWhileEveryCertificateOnThePathIsValid) {
  ChainAnalysisInput in;
  const std::vector<Der> chain = loadCerts({"good.pem", "chain-int.pem"});
  auto anchors = anchorsFrom({"root.pem"});
  in.presented = chain;
  in.anchors = anchors.get();
  in.mode = TrustMode::kPrivate;
  in.expected_host = "good.test";
  in.now = std::time(nullptr);
  const ChainVerdict v = analyzeChain(in);
  ASSERT_TRUE(v.ok()) << v.details;
  EXPECT_EQ(v.holds_from,
            std::max({notBeforeOf("good.pem"), notBeforeOf("int.pem"), notBeforeOf("root.pem")}));
  EXPECT_EQ(v.holds_until,
            std::min({notAfterOf("good.pem"), notAfterOf("int.pem"), notAfterOf("root.pem")}));
}

}  // namespace
}  // namespace bhe
