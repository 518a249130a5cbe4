// The resolver's answers on simulated time over a scripted DnsLookup: TTL caching (capped),
// one query per name in flight, last-known-good on failures and after half the timeout.
#include "probe/resolve/resolver.h"

#include <gtest/gtest.h>

#include <deque>

#include "tests/support/scripted_lookup.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;
using test::ScriptedLookup;

class ResolverTest : public ::testing::Test {
 protected:
  ResolverTest() {
    auto owned = std::make_unique<ScriptedLookup>();
    lookup = owned.get();
    resolver = std::make_unique<Resolver>(dispatcher, std::move(owned));
  }

  // Resolves and keeps the request alive; answers land in `answers`.
  void resolve(const std::string& name, std::chrono::milliseconds fallback = 0ms) {
    requests.push_back(resolver->resolve(
        name, fallback, [this](const Resolver::Answer& a) { answers.push_back(a); }));
  }

  test::SimulatedDispatcher dispatcher;
  ScriptedLookup* lookup;
  std::unique_ptr<Resolver> resolver;
  std::vector<std::unique_ptr<Resolver::Request>> requests;
  std::vector<Resolver::Answer> answers;
};

TEST_F(ResolverTest, CachesAnswersForTheirTtlAtMostAMinute) {
  resolve("a.test");
  lookup->answer(test::addresses({"10.0.0.1"}, 30s));
  resolve("a.test");
  EXPECT_EQ(lookup->sent, 1) << "cached";
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].addresses, std::vector<std::string>{"10.0.0.1"});
  dispatcher.advance(30s);
  resolve("a.test");
  EXPECT_EQ(lookup->sent, 2) << "expired after its TTL";
  lookup->answer(test::addresses({"10.0.0.2"}, std::chrono::hours(24)));
  dispatcher.advance(Resolver::kMaxCacheTtl - 1s);
  resolve("a.test");
  EXPECT_EQ(lookup->sent, 2);
  dispatcher.advance(1s);
  resolve("a.test");
  EXPECT_EQ(lookup->sent, 3) << "a long TTL is capped";
}

TEST_F(ResolverTest, ConcurrentLookupsOfOneNameShareOneQuery) {
  resolve("a.test");
  resolve("a.test");
  resolve("b.test");
  EXPECT_EQ(lookup->sent, 2);
  lookup->answer(test::addresses({"10.0.0.1", "fd00::1"}));
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& a : answers) {
    EXPECT_EQ(a.addresses, (std::vector<std::string>{"10.0.0.1", "fd00::1"}));
    EXPECT_FALSE(a.stale);
    EXPECT_EQ(a.servers, "127.0.0.1:5353");
  }
}

TEST_F(ResolverTest, AFailedLookupServesTheLastKnownGoodAddressesMarkedStale) {
  resolve("a.test");
  lookup->answer(test::addresses({"10.0.0.1"}, 0s));  // TTL 0: not cached, but remembered
  resolve("a.test");
  lookup->answer(DnsAnswer{ARES_ENOTFOUND, {}, 0s});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[1].stale);
  EXPECT_FALSE(answers[1].too_slow);
  EXPECT_EQ(answers[1].status, ARES_ENOTFOUND);
  EXPECT_EQ(answers[1].addresses, std::vector<std::string>{"10.0.0.1"});

  resolve("never.test");
  lookup->answer(DnsAnswer{ARES_ENOTFOUND, {}, 0s});
  EXPECT_FALSE(answers[2].ok()) << "no last-known-good: the failure itself";
  EXPECT_EQ(answers[2].status, ARES_ENOTFOUND);
}

TEST_F(ResolverTest, ASilentResolverIsNotWaitedForWhenALastKnownGoodExists) {
  resolve("a.test");
  lookup->answer(test::addresses({"10.0.0.1"}, 0s));
  resolve("a.test", 750ms);
  dispatcher.advance(749ms);
  EXPECT_EQ(answers.size(), 1u);
  dispatcher.advance(1ms);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[1].stale);
  EXPECT_TRUE(answers[1].too_slow);
  EXPECT_EQ(answers[1].addresses, std::vector<std::string>{"10.0.0.1"});
  // The late answer still refreshes what is known, for the next probe.
  lookup->answer(test::addresses({"10.0.0.9"}, 0s));
  EXPECT_EQ(answers.size(), 2u);
  resolve("a.test", 750ms);
  lookup->answer(DnsAnswer{ARES_ETIMEOUT, {}, 0s});
  EXPECT_EQ(answers.back().addresses, std::vector<std::string>{"10.0.0.9"});

  resolve("new.test", 750ms);  // nothing known: no fallback, the probe timeout decides
  dispatcher.advance(10s);
  EXPECT_EQ(answers.size(), 3u);
}

TEST_F(ResolverTest, AWithdrawnRequestIsNeverAnswered) {
  resolve("a.test");
  requests.back().reset();
  lookup->answer(test::addresses({"10.0.0.1"}));
  EXPECT_TRUE(answers.empty());
  resolve("a.test");
  EXPECT_EQ(lookup->sent, 1) << "the withdrawn request's answer still filled the cache";
}

TEST_F(ResolverTest, NewDnsServersKeepLastKnownGoodAndResendPendingLookups) {
  resolve("a.test");
  lookup->answer(test::addresses({"10.0.0.1"}));
  resolve("b.test");
  auto replacement = std::make_unique<ScriptedLookup>();
  ScriptedLookup* second = replacement.get();
  resolver->setLookup(std::move(replacement));
  lookup = second;
  EXPECT_EQ(second->sent, 1) << "b.test asked again on the new servers";
  resolve("a.test");
  EXPECT_EQ(second->sent, 2) << "the old servers' cache is gone";
  second->answer(test::addresses({"10.0.0.2"}));  // b.test
  second->answer(DnsAnswer{ARES_ESERVFAIL, {}, 0s});
  EXPECT_EQ(answers.back().addresses, std::vector<std::string>{"10.0.0.1"})
      << "last-known-good survives the change of servers";
}

TEST_F(ResolverTest, NamesThatLeftTheConfigAreForgotten) {
  resolve("a.test");
  lookup->answer(test::addresses({"10.0.0.1"}, 0s));
  resolve("b.test");
  lookup->answer(test::addresses({"10.0.0.2"}, 0s));
  resolver->retainLastKnown({"b.test"});
  EXPECT_FALSE(resolver->hasLastKnown("a.test"));
  EXPECT_TRUE(resolver->hasLastKnown("b.test"));
}

}  // namespace
}  // namespace bhe
