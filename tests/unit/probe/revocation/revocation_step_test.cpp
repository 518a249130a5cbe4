// The revocation step on simulated time: real certificates, responses and CRLs of the revocation
// PKI, fetched through a hand-finished wire. Sources in order, the CRL deciding when OCSP fails,
// answers kept for the next probe, and a budget that runs out: the sources still pending are
// timeouts and the verdict comes from what answered.
#include "probe/revocation/revocation_step.h"

#include <gtest/gtest.h>

#include "revocation_pki.h"
#include "tests/support/fake_http_fetcher.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;
using test::FakeHttpFetcher;
using test::revocation_pki::bytes;
using test::revocation_pki::cert;
using State = CertificateRevocationStatus::State;

class RevocationStepTest : public ::testing::Test {
 protected:
  RevocationStepTest() {
    auto wire = std::make_unique<FakeHttpFetcher>(dispatcher_);
    started_ = wire->started();
    fetcher_ = std::make_unique<RevocationFetcher>(dispatcher_, std::move(wire));
  }

  // leaf <- rv-int <- rv-root (the anchor, last)
  std::vector<TrustPathEntry> path(const std::string& leaf) {
    return {{0, cert(leaf)}, {1, cert("rv-int.pem")}, {-1, cert("rv-root.pem")}};
  }

  void run(std::vector<TrustPathEntry> p, std::chrono::milliseconds budget = 2000ms,
           std::optional<StapledOcsp> stapled = std::nullopt) {
    verdict_.reset();
    step_ = std::make_unique<RevocationStep>(dispatcher_, *fetcher_, std::move(p),
                                             std::move(stapled), budget,
                                             [this](const RevocationVerdict& v) { verdict_ = v; });
    step_->start();
  }

  // Answers the pending fetch of `url` with `result`.
  void answer(const std::string& url, HttpFetchResult result) {
    for (auto& s : *started_) {
      if (s.request.url == url && s.done) {
        FakeHttpFetcher::answer(dispatcher_, s, std::move(result));
        dispatcher_.runPosted();
        return;
      }
    }
    FAIL() << "no pending fetch of " << url;
  }

  test::SimulatedDispatcher dispatcher_;
  std::shared_ptr<std::vector<FakeHttpFetcher::Started>> started_;
  std::unique_ptr<RevocationFetcher> fetcher_;
  std::unique_ptr<RevocationStep> step_;
  std::optional<RevocationVerdict> verdict_;
};

constexpr const char* kIntOcsp = "http://127.0.0.1:9/int";
constexpr const char* kRootOcsp = "http://127.0.0.1:9/root";
constexpr const char* kIntCrl = "http://127.0.0.1:9/int.crl";

TEST_F(RevocationStepTest, EveryCertificateButTheAnchorIsCheckedAtOnceAndAnswersAreKept) {
  run(path("rv-good.pem"));
  ASSERT_EQ(started_->size(), 2u);  // leaf and intermediate in parallel; never the root
  EXPECT_EQ(started_->at(0).request.url, kIntOcsp);
  EXPECT_EQ(started_->at(1).request.url, kRootOcsp);
  EXPECT_FALSE(started_->at(0).request.post_body.empty());  // POST application/ocsp-request
  EXPECT_EQ(started_->at(0).request.max_bytes, kMaxOcspResponseBytes);
  answer(kIntOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-good.der")));
  EXPECT_FALSE(verdict_.has_value());
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kOk);
  EXPECT_EQ(describeRevocationState(verdict_->certificates[0]), "good (OCSP)");
  EXPECT_EQ(describeRevocationState(verdict_->certificates[1]), "good (OCSP)");
  EXPECT_EQ(fetcher_->keptAnswers(), 2u);

  // The next probe of this (or any) target is answered from what was kept.
  run(path("rv-good.pem"));
  dispatcher_.runPosted();
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kOk);
  EXPECT_EQ(started_->size(), 2u);
}

TEST_F(RevocationStepTest, OcspFailsAndTheCrlDecides) {
  run(path("rv-revoked.pem"));
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  HttpFetchResult busy = FakeHttpFetcher::failure(SourceFailure::kHttpStatus);
  busy.http_status = 503;
  answer(kIntOcsp, busy);
  ASSERT_EQ(started_->size(), 3u);
  EXPECT_EQ(started_->at(2).request.url, kIntCrl);
  EXPECT_TRUE(started_->at(2).request.post_body.empty());  // GET
  answer(kIntCrl, FakeHttpFetcher::body(bytes("int.crl.der")));
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kRevoked);
  const auto& leaf = verdict_->certificates[0];
  EXPECT_EQ(leaf.state, State::kRevoked);
  EXPECT_EQ(leaf.answers.front().source, RevocationSource::kCrl);
  EXPECT_EQ(leaf.answers.front().reason_code, RevocationReasonCode::kKeyCompromise);
}

TEST_F(RevocationStepTest, ABadlySignedAnswerIsNotKept) {
  run(path("rv-good.pem"));
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  answer(kIntOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-good-badsig.der")));
  answer(kIntCrl, FakeHttpFetcher::failure(SourceFailure::kRefused));
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kUnknown);
  EXPECT_EQ(verdict_->certificates[0].answers[0].failure, SourceFailure::kBadSignature);
  EXPECT_EQ(fetcher_->keptAnswers(), 1u);  // only the intermediate's good answer
  run(path("rv-good.pem"));
  EXPECT_EQ(started_->size(), 4u);  // the leaf's responder is asked again
}

TEST_F(RevocationStepTest, WhenTheBudgetRunsOutPendingSourcesAreTimeouts) {
  run(path("rv-good.pem"), 1500ms);
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  dispatcher_.advance(1500ms);  // the leaf's responder never answers
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kUnknown);
  const auto& leaf = verdict_->certificates[0];
  ASSERT_EQ(leaf.answers.size(), 2u);
  EXPECT_EQ(leaf.answers[0].failure, SourceFailure::kTimeout);  // OCSP
  EXPECT_EQ(leaf.answers[1].source, RevocationSource::kCrl);    // no time left for the CRL
  EXPECT_EQ(leaf.answers[1].failure, SourceFailure::kTimeout);
  EXPECT_EQ(started_->size(), 2u);
  EXPECT_EQ(describeRevocationState(verdict_->certificates[1]), "good (OCSP)");
}

TEST_F(RevocationStepTest, NothingToFetchFinishesAtOnce) {
  run({{0, cert("rv-norev.pem")}, {-1, cert("rv-root.pem")}});
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kOk);
  EXPECT_EQ(verdict_->certificates[0].state, State::kNoInformation);
  EXPECT_TRUE(started_->empty());
}

TEST_F(RevocationStepTest, AStapledResponseDecidesForTheLeafWithoutAFetch) {
  run({{0, cert("rv-staple-revoked.pem")}, {1, cert("rv-int.pem")}, {-1, cert("rv-root.pem")}},
      2000ms, StapledOcsp{bytes("ocsp-rv-staple-revoked.der"), false, false});
  ASSERT_EQ(started_->size(), 1u);  // the intermediate only
  EXPECT_EQ(started_->at(0).request.url, kRootOcsp);
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kRevoked);
  const auto& leaf = verdict_->certificates[0];
  EXPECT_EQ(leaf.answers.front().source, RevocationSource::kStapledOcsp);
  EXPECT_EQ(leaf.answers.front().reason_code, RevocationReasonCode::kKeyCompromise);
}

TEST_F(RevocationStepTest, AStapleForAnotherCertificateFallsBackToTheResponder) {
  run(path("rv-good.pem"), 2000ms, StapledOcsp{bytes("ocsp-rv-revoked.der"), false, false});
  answer(kRootOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-int.der")));
  answer(kIntOcsp, FakeHttpFetcher::body(bytes("ocsp-rv-good.der")));
  ASSERT_TRUE(verdict_.has_value());
  EXPECT_EQ(verdict_->kind, RevocationVerdict::Kind::kOk);
  EXPECT_EQ(describeRevocationState(verdict_->certificates[0]), "good (OCSP)");
}

}  // namespace
}  // namespace bhe
