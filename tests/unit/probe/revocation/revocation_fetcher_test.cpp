// The revocation fetcher on simulated time over a hand-finished wire: one fetch per request in
// flight, answers kept until the time the caller gives (capped), failures never kept, each
// waiter bounded by its own timeout; and the URLs it accepts.
#include "probe/revocation/revocation_fetcher.h"

#include <gtest/gtest.h>

#include "tests/support/fake_http_fetcher.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;
using test::FakeHttpFetcher;

class RevocationFetcherTest : public ::testing::Test {
 protected:
  RevocationFetcherTest() {
    auto wire = std::make_unique<FakeHttpFetcher>(dispatcher_);
    started_ = wire->started();
    fetcher_ = std::make_unique<RevocationFetcher>(dispatcher_, std::move(wire));
  }

  HttpFetchRequest request(std::string url = "http://127.0.0.1:1/int.crl",
                           std::chrono::milliseconds timeout = 2000ms) {
    HttpFetchRequest r;
    r.url = std::move(url);
    r.max_bytes = kMaxCrlBytes;
    r.timeout = timeout;
    return r;
  }

  // Starts a waiter that records what it heard.
  std::unique_ptr<RevocationFetcher::Waiter> wait(const HttpFetchRequest& r,
                                                  std::vector<HttpFetchResult>& heard) {
    return fetcher_->fetch(r, [&heard](const HttpFetchResult& result) { heard.push_back(result); });
  }

  void answer(std::size_t i, HttpFetchResult result) {
    FakeHttpFetcher::answer(dispatcher_, started_->at(i), std::move(result));
    dispatcher_.runPosted();
  }

  test::SimulatedDispatcher dispatcher_;
  std::shared_ptr<std::vector<FakeHttpFetcher::Started>> started_;
  std::unique_ptr<RevocationFetcher> fetcher_;
};

TEST_F(RevocationFetcherTest, ConcurrentWaitersShareOneFetch) {
  std::vector<HttpFetchResult> a, b, c;
  auto wa = wait(request(), a);
  auto wb = wait(request(), b);
  auto wc = wait(request("http://127.0.0.1:1/other.crl"), c);
  EXPECT_EQ(started_->size(), 2u);  // one per URL
  EXPECT_EQ(fetcher_->fetchesInFlight(), 2u);
  answer(0, FakeHttpFetcher::body("crl bytes"));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(a[0].ok);
  EXPECT_EQ(*b[0].body, "crl bytes");
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(fetcher_->fetchesInFlight(), 1u);
}

TEST_F(RevocationFetcherTest, OcspRequestsWithDifferentBodiesAreDifferentFetches) {
  std::vector<HttpFetchResult> a, b;
  HttpFetchRequest one = request("http://127.0.0.1:1/int");
  one.post_body = "request for certificate 1";
  HttpFetchRequest two = one;
  two.post_body = "request for certificate 2";
  auto wa = wait(one, a);
  auto wb = wait(two, b);
  EXPECT_EQ(started_->size(), 2u);
  EXPECT_EQ(started_->at(1).request.post_body, "request for certificate 2");
}

TEST_F(RevocationFetcherTest, AKeptAnswerServesUntilItsTimeThenIsFetchedAgain) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  answer(0, FakeHttpFetcher::body("v1"));
  fetcher_->keep(request(), heard[0].body, dispatcher_.now() + 10s);
  EXPECT_EQ(fetcher_->keptAnswers(), 1u);

  dispatcher_.advance(9s);
  std::vector<HttpFetchResult> cached;
  auto w2 = wait(request(), cached);
  EXPECT_TRUE(cached.empty());  // handed over on a later loop turn, never inside fetch()
  dispatcher_.runPosted();
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_EQ(*cached[0].body, "v1");
  EXPECT_EQ(started_->size(), 1u);

  dispatcher_.advance(2s);  // past the kept time (a CRL whose nextUpdate passed)
  std::vector<HttpFetchResult> fresh;
  auto w3 = wait(request(), fresh);
  EXPECT_EQ(started_->size(), 2u);
  answer(1, FakeHttpFetcher::body("v2"));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(*fresh[0].body, "v2");
}

TEST_F(RevocationFetcherTest, KeepingIsCappedAtOneHour) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  answer(0, FakeHttpFetcher::body("v1"));
  fetcher_->keep(request(), heard[0].body, dispatcher_.now() + std::chrono::hours(24 * 7));
  dispatcher_.advance(kMaxRevocationCacheAge - 1s);
  std::vector<HttpFetchResult> again;
  auto w2 = wait(request(), again);
  EXPECT_EQ(started_->size(), 1u);
  dispatcher_.advance(2s);
  auto w3 = wait(request(), again);
  EXPECT_EQ(started_->size(), 2u);
}

TEST_F(RevocationFetcherTest, FailuresAreNotKeptTheNextProbeAsksAgain) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  answer(0, FakeHttpFetcher::failure(SourceFailure::kRefused));
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_FALSE(heard[0].ok);
  EXPECT_EQ(heard[0].failure, SourceFailure::kRefused);
  EXPECT_EQ(fetcher_->keptAnswers(), 0u);
  // Nothing is retried behind the caller's back (no tight loop) ...
  dispatcher_.advance(60s);
  EXPECT_EQ(started_->size(), 1u);
  // ... and the next probe's request goes to the wire again.
  auto w2 = wait(request(), heard);
  EXPECT_EQ(started_->size(), 2u);
}

TEST_F(RevocationFetcherTest, ForgetDropsAKeptAnswer) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  answer(0, FakeHttpFetcher::body("badly signed"));
  fetcher_->keep(request(), heard[0].body, dispatcher_.now() + 600s);
  fetcher_->forget(request());
  auto w2 = wait(request(), heard);
  EXPECT_EQ(started_->size(), 2u);
}

TEST_F(RevocationFetcherTest, VerdictsAreKeptWithTheirBodyAndGoWithIt) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  answer(0, FakeHttpFetcher::body("crl v1"));
  const Der leaf{1, 2, 3};
  const Der other{4, 5, 6};
  CheckedAnswer good;
  good.answer.outcome = SourceAnswer::Outcome::kGood;
  fetcher_->keepVerdict(request(), leaf, good);  // no body kept yet: nothing to attach to
  EXPECT_FALSE(fetcher_->keptVerdict(request(), leaf).has_value());

  fetcher_->keep(request(), heard[0].body, dispatcher_.now() + 60s);
  fetcher_->keepVerdict(request(), leaf, good);
  ASSERT_TRUE(fetcher_->keptVerdict(request(), leaf).has_value());
  EXPECT_EQ(fetcher_->keptVerdict(request(), leaf)->answer.outcome, SourceAnswer::Outcome::kGood);
  EXPECT_FALSE(fetcher_->keptVerdict(request(), other).has_value());
  // The same body kept again (another certificate's check): the verdicts stay.
  fetcher_->keep(request(), heard[0].body, dispatcher_.now() + 60s);
  EXPECT_TRUE(fetcher_->keptVerdict(request(), leaf).has_value());
  // A new body: they go.
  fetcher_->keep(request(), std::make_shared<const std::string>("crl v2"), dispatcher_.now() + 60s);
  EXPECT_FALSE(fetcher_->keptVerdict(request(), leaf).has_value());
  fetcher_->keepVerdict(request(), leaf, good);
  dispatcher_.advance(61s);  // and they expire with the body
  EXPECT_FALSE(fetcher_->keptVerdict(request(), leaf).has_value());
}

TEST_F(RevocationFetcherTest, EachWaiterHasItsOwnTimeout) {
  std::vector<HttpFetchResult> slow, quick;
  auto ws = wait(request("http://127.0.0.1:1/int.crl", 5000ms), slow);
  auto wq = wait(request("http://127.0.0.1:1/int.crl", 1000ms), quick);
  dispatcher_.advance(1000ms);
  ASSERT_EQ(quick.size(), 1u);
  EXPECT_EQ(quick[0].failure, SourceFailure::kTimeout);
  EXPECT_TRUE(slow.empty());
  answer(0, FakeHttpFetcher::body("late but in time"));
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_TRUE(slow[0].ok);
  EXPECT_EQ(quick.size(), 1u);  // heard once only
}

TEST_F(RevocationFetcherTest, TheSharedFetchIsNotBoundByTheBudgetOfTheProbeThatStartedIt) {
  std::vector<HttpFetchResult> first, later;
  auto wf = wait(request("http://127.0.0.1:1/int.crl", 150ms), first);
  auto wl = wait(request("http://127.0.0.1:1/int.crl", 5000ms), later);
  ASSERT_EQ(started_->size(), 1u);
  EXPECT_GE(started_->at(0).request.timeout, std::chrono::milliseconds(kRevocationFetchTimeout));
  dispatcher_.advance(150ms);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].failure, SourceFailure::kTimeout);
  answer(0, FakeHttpFetcher::body("a large CRL, in time for the later probe"));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_TRUE(later[0].ok);
}

TEST_F(RevocationFetcherTest, ExpiredAnswersMakeRoomOnceTheCountBoundIsReached) {
  auto body = std::make_shared<const std::string>("ocsp response");
  for (std::size_t i = 0; i < kMaxKeptRevocationAnswers; ++i) {
    fetcher_->keep(request("http://127.0.0.1:1/ocsp/" + std::to_string(i)), body,
                   dispatcher_.now() + (i == 0 ? 120s : 60s));
  }
  EXPECT_EQ(fetcher_->keptAnswers(), kMaxKeptRevocationAnswers);
  dispatcher_.advance(61s);
  fetcher_->keep(request("http://127.0.0.1:1/ocsp/new"), body, dispatcher_.now() + 60s);
  EXPECT_EQ(fetcher_->keptAnswers(), 2u) << "the expired ones went, the current one stayed";
  std::vector<HttpFetchResult> heard;
  auto w = wait(request("http://127.0.0.1:1/ocsp/0"), heard);
  dispatcher_.runPosted();
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_TRUE(heard[0].ok) << "served from what was kept";
}

TEST_F(RevocationFetcherTest, KeptBytesAreBoundedTheSoonestToExpireGoesFirst) {
  auto mib = std::make_shared<const std::string>(1024 * 1024, 'c');
  const std::size_t fit = kMaxKeptRevocationBytes / mib->size();
  for (std::size_t i = 0; i < fit; ++i) {
    fetcher_->keep(request("http://127.0.0.1:1/crl/" + std::to_string(i)), mib,
                   dispatcher_.now() + std::chrono::seconds(100 + i));
  }
  EXPECT_EQ(fetcher_->keptBytes(), kMaxKeptRevocationBytes);
  fetcher_->keep(request("http://127.0.0.1:1/crl/new"), mib, dispatcher_.now() + 3000s);
  EXPECT_EQ(fetcher_->keptAnswers(), fit);
  EXPECT_LE(fetcher_->keptBytes(), kMaxKeptRevocationBytes);
  std::vector<HttpFetchResult> heard;
  auto w = wait(request("http://127.0.0.1:1/crl/0"), heard);
  EXPECT_EQ(started_->size(), 1u) << "the soonest to expire was dropped and is fetched again";
  fetcher_->forget(request("http://127.0.0.1:1/crl/new"));
  EXPECT_EQ(fetcher_->keptBytes(), kMaxKeptRevocationBytes - mib->size());
}

TEST_F(RevocationFetcherTest, AWithdrawnWaiterHearsNothing) {
  std::vector<HttpFetchResult> gone, stays;
  auto wg = wait(request(), gone);
  auto ws = wait(request(), stays);
  wg.reset();
  answer(0, FakeHttpFetcher::body("x"));
  EXPECT_TRUE(gone.empty());
  EXPECT_EQ(stays.size(), 1u);
  // A kept answer posted to a waiter that goes before the next turn is not delivered either.
  fetcher_->keep(request(), stays[0].body, dispatcher_.now() + 60s);
  auto wk = wait(request(), gone);
  wk.reset();
  dispatcher_.runPosted();
  EXPECT_TRUE(gone.empty());
}

TEST_F(RevocationFetcherTest, CancelAllEndsFetchesInFlight) {
  std::vector<HttpFetchResult> heard;
  auto w = wait(request(), heard);
  fetcher_->cancelAll();
  EXPECT_EQ(fetcher_->fetchesInFlight(), 0u);
  answer(0, FakeHttpFetcher::body("too late"));
  EXPECT_TRUE(heard.empty());
  w.reset();  // after cancelAll a waiter goes quietly
}

TEST(HttpUrl, OnlyPlainHttpWithAHost) {
  auto u = parseHttpUrl("http://127.0.0.1:8080/int.crl");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/int.crl");
  EXPECT_EQ(u->host_header, "127.0.0.1:8080");

  auto bare = parseHttpUrl("http://ocsp.example.test");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");

  auto v6 = parseHttpUrl("http://[::1]:81/x?y=1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->target, "/x?y=1");
  EXPECT_EQ(v6->host_header, "[::1]:81");

  EXPECT_FALSE(parseHttpUrl("https://ocsp.example.test/").has_value());
  EXPECT_FALSE(parseHttpUrl("ldap://ldap.example.test/cn=CA").has_value());
  EXPECT_FALSE(parseHttpUrl("http://").has_value());
  EXPECT_FALSE(parseHttpUrl("http://user:pw@ocsp.example.test/").has_value());
  EXPECT_FALSE(parseHttpUrl("http://host:99999/").has_value());
}

}  // namespace
}  // namespace bhe
