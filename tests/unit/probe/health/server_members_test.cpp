// An FQDN server's members on simulated time, through the real resolve phase and rounds over a
// scripted DNS and a prober finished by hand: one member per address, the server's state from
// its members, members that come and go with the answer, the address cap and families, the
// stand-in for names that resolve to nothing, and unhealthy_interval.
#include <gtest/gtest.h>

#include "probe/health/target_session.h"
#include "tests/support/fake_prober.h"
#include "tests/support/recording_sink.h"
#include "tests/support/scripted_lookup.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;
using test::addresses;

std::shared_ptr<ProbeTarget> fqdn(std::chrono::milliseconds interval = 10s) {
  auto t = std::make_shared<ProbeTarget>();
  t->key = {"pool", "web", "api.test"};
  t->port = 443;
  t->interval = interval;
  t->unhealthy_interval = interval;
  t->timeout = 5s;
  t->unhealthy_threshold = 1;
  return t;
}

class ServerMembersTest : public ::testing::Test {
 protected:
  ServerMembersTest() {
    auto owned = std::make_unique<test::ScriptedLookup>();
    lookup = owned.get();
    resolver = std::make_unique<Resolver>(dispatcher, std::move(owned));
    context = std::make_unique<SessionContext>(SessionContext{dispatcher, *resolver, runner, sink,
                                                              schedule_timers,
                                                              /*max_addresses_per_server=*/3});
  }

  std::unique_ptr<TargetSession> start(std::shared_ptr<const ProbeTarget> t) {
    auto s = std::make_unique<TargetSession>(*context, std::move(t), 0);
    key = s->target()->key;
    return s;
  }

  // Waits for the round's lookup, answers it, then finishes every probe of the round: failures
  // for the addresses in `failing`. Returns the addresses that were probed.
  std::vector<std::string> round(const DnsAnswer& answer,
                                 const std::vector<std::string>& failing = {}) {
    for (int i = 0; i < 10000 && lookup->pending.empty(); ++i) {
      dispatcher.advance(10ms);
    }
    EXPECT_FALSE(lookup->pending.empty()) << "no round came due";
    const std::size_t first = prober.startedCount();
    lookup->answer(answer);
    std::vector<std::string> probed;
    for (std::size_t i = first; i < prober.startedCount(); ++i) {
      const std::string& address = prober.started(i).request.address;
      probed.push_back(address);
      if (std::find(failing.begin(), failing.end(), address) != failing.end()) {
        prober.fail(i, Reason::kTcpConnectError);
      } else {
        prober.succeed(i);
      }
    }
    dispatcher.runPosted();
    return probed;
  }

  const TargetStatus& status() const { return sink.of(key); }
  std::vector<std::string> memberAddresses() const {
    std::vector<std::string> out;
    for (const auto& m : status().addresses) {
      out.push_back(m.address);
    }
    return out;
  }

  test::SimulatedDispatcher dispatcher;
  test::FakeProber prober{dispatcher};
  ProbeRunner runner{dispatcher, prober, 1000};
  test::ScriptedLookup* lookup;
  std::unique_ptr<Resolver> resolver;
  test::RecordingSink sink;
  TickTimers schedule_timers{dispatcher, TargetSession::kTick};
  std::unique_ptr<SessionContext> context;
  TargetKey key;
};

TEST_F(ServerMembersTest, EveryAddressIsProbedAndOneFailingMakesTheServerUnhealthy) {
  auto s = start(fqdn());
  EXPECT_EQ(round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0s), {"10.0.0.3"}),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
  EXPECT_EQ(status().reason, Reason::kTcpConnectError);
  EXPECT_EQ(status().details, "2 of 3 addresses healthy; 10.0.0.3:443: tcp_connect_error details");
  ASSERT_EQ(status().addresses.size(), 3u);
  EXPECT_EQ(status().addresses[0].state, HealthState::kHealthy);
  EXPECT_EQ(status().addresses[2].state, HealthState::kUnhealthy);
  EXPECT_EQ(status().probes.success, 2u);
  EXPECT_EQ(status().probes.failures[static_cast<int>(Reason::kTcpConnectError)], 1u);

  round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0s));  // the failing address is back
  EXPECT_EQ(status().state, HealthState::kHealthy);
  EXPECT_EQ(status().details, "3 of 3 addresses healthy; Received:200")
      << "a healthy server's details are its first member's";
}

TEST_F(ServerMembersTest, MembersComeAndGoWithTheAnswerAndThoseThatStayKeepTheirCounters) {
  auto s = start(fqdn());
  round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0s));
  round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0s));
  round(addresses({"10.0.0.2", "10.0.0.1"}, 0s));
  EXPECT_EQ(memberAddresses(), (std::vector<std::string>{"10.0.0.2", "10.0.0.1"}));
  for (const auto& m : status().addresses) {
    EXPECT_EQ(m.probes, 3u) << m.address << " kept its counters";
  }
  round(addresses({"10.0.0.2", "10.0.0.9"}, 0s), {"10.0.0.9"});
  ASSERT_EQ(status().addresses.size(), 2u);
  EXPECT_EQ(status().addresses[1].address, "10.0.0.9");
  EXPECT_EQ(status().addresses[1].probes, 1u) << "a new member starts afresh";
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
}

TEST_F(ServerMembersTest, AtMostMaxAddressesPerServerAreProbedTheRestCounted) {
  auto s = start(fqdn());
  auto probed = round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}, 0s),
                      {"10.0.0.2"});
  EXPECT_EQ(probed.size(), 3u);
  EXPECT_EQ(status().omitted_addresses, 2u);
  EXPECT_EQ(status().details,
            "2 of 3 addresses healthy; 10.0.0.2:443: tcp_connect_error details; 2 more "
            "addresses not probed (max_addresses_per_server)");
}

TEST_F(ServerMembersTest, ARepeatedRecordIsOneMember) {
  auto s = start(fqdn());
  EXPECT_EQ(round(addresses({"10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2", "10.0.0.3"}, 0s)),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(status().omitted_addresses, 0u) << "the repeats are neither probed nor counted";
  EXPECT_EQ(status().details, "3 of 3 addresses healthy; Received:200");
}

TEST_F(ServerMembersTest, OnlyTheConfiguredAddressFamiliesAreProbed) {
  auto t = fqdn();
  t->address_families = AddressFamilies{true, false};
  auto s = start(t);
  EXPECT_EQ(round(addresses({"10.0.0.1", "fd00::1"}, 0s)), std::vector<std::string>{"10.0.0.1"});
  s.reset();

  t = fqdn();
  t->address_families = AddressFamilies{false, true};
  s = start(t);
  EXPECT_EQ(round(addresses({"10.0.0.1", "fd00::1"}, 0s)), std::vector<std::string>{"fd00::1"});
  EXPECT_EQ(status().addresses[0].address, "fd00::1");
  round(addresses({"10.0.0.1"}, 0s));  // the AAAA record is gone
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
  EXPECT_EQ(status().reason, Reason::kDnsResolutionError);
  EXPECT_NE(status().details.find("no IPv6 address"), std::string::npos) << status().details;
}

TEST_F(ServerMembersTest, ANameThatResolvesToNothingHasOneStandInMember) {
  auto s = start(fqdn());
  round(DnsAnswer{ARES_ENOTFOUND, {}, 0s});
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
  EXPECT_EQ(status().reason, Reason::kDnsResolutionError);
  ASSERT_EQ(status().addresses.size(), 1u);
  EXPECT_TRUE(status().addresses[0].standIn());
  EXPECT_EQ(prober.startedCount(), 0u) << "nothing to connect to";
  round(addresses({"10.0.0.1"}, 0s));
  EXPECT_EQ(status().state, HealthState::kHealthy);
  EXPECT_EQ(memberAddresses(), std::vector<std::string>{"10.0.0.1"});
}

TEST_F(ServerMembersTest, LastKnownGoodAppliesToTheWholeSet) {
  auto s = start(fqdn());
  round(addresses({"10.0.0.1", "10.0.0.2"}, 0s));
  const std::size_t first = prober.startedCount();
  round(DnsAnswer{ARES_ESERVFAIL, {}, 0s});
  EXPECT_EQ(memberAddresses(), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  ASSERT_EQ(prober.startedCount(), first + 2);
  EXPECT_TRUE(prober.started(first).request.dns_stale);
  EXPECT_TRUE(prober.started(first + 1).request.dns_stale);
  EXPECT_EQ(status().state, HealthState::kHealthy);
}

// When no member of the previous round stays, the server's state carries over to the new ones,
// and the thresholds apply as they would to a single address.
TEST_F(ServerMembersTest, AHealthyServerWhoseNameStopsResolvingNeedsUnhealthyThresholdRounds) {
  auto t = fqdn();
  t->address_families = AddressFamilies{false, true};
  t->unhealthy_threshold = 3;
  auto s = start(t);
  round(addresses({"fd00::1"}, 0s));
  ASSERT_EQ(status().state, HealthState::kHealthy);
  round(addresses({"10.0.0.1"}, 0s));  // no IPv6 address any more: the stand-in takes over
  EXPECT_TRUE(status().addresses.at(0).standIn());
  EXPECT_EQ(status().state, HealthState::kHealthy) << "1 of 3 failures";
  EXPECT_EQ(status().consecutive_failures, 1);
  round(addresses({"10.0.0.1"}, 0s));
  EXPECT_EQ(status().state, HealthState::kHealthy) << "2 of 3 failures";
  round(addresses({"10.0.0.1"}, 0s));
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
  EXPECT_EQ(status().reason, Reason::kDnsResolutionError);
}

TEST_F(ServerMembersTest, AServerWhoseNameResolvesAgainNeedsHealthyThresholdRounds) {
  auto t = fqdn();
  t->healthy_threshold = 2;
  auto s = start(t);
  round(DnsAnswer{ARES_ENOTFOUND, {}, 0s});
  ASSERT_EQ(status().state, HealthState::kUnhealthy);
  const std::string dns_details = status().addresses.at(0).details;
  round(addresses({"10.0.0.1", "10.0.0.2"}, 0s));
  EXPECT_EQ(status().state, HealthState::kUnhealthy) << "1 of 2 successes";
  EXPECT_EQ(status().reason, Reason::kDnsResolutionError);
  EXPECT_EQ(status().addresses.at(0).details, dns_details)
      << "the member carries the failure's own details, not the server's summary";
  round(addresses({"10.0.0.1", "10.0.0.2"}, 0s));
  EXPECT_EQ(status().state, HealthState::kHealthy);
}

TEST_F(ServerMembersTest, ANameMovedToEntirelyNewAddressesKeepsTheServerState) {
  auto t = fqdn();
  t->unhealthy_threshold = 2;
  auto s = start(t);
  round(addresses({"10.0.0.1"}, 0s));
  round(addresses({"10.0.0.2"}, 0s), {"10.0.0.2"});
  EXPECT_EQ(status().state, HealthState::kHealthy) << "1 of 2 failures";
  EXPECT_EQ(status().addresses.at(0).probes, 1u) << "its own counters start afresh";
  round(addresses({"10.0.0.2"}, 0s), {"10.0.0.2"});
  EXPECT_EQ(status().state, HealthState::kUnhealthy);
  // A member that joins beside one that stays still starts not yet probed: its first probe
  // decides, as for any new member.
  round(addresses({"10.0.0.2", "10.0.0.3"}, 0s), {"10.0.0.2"});
  EXPECT_EQ(status().addresses.at(1).state, HealthState::kHealthy);
}

TEST_F(ServerMembersTest, AFailingServerIsProbedAtTheUnhealthyIntervalUntilItRecovers) {
  auto t = fqdn(10s);
  t->unhealthy_interval = 2s;
  auto s = start(t);
  round(addresses({"10.0.0.1"}, 0s), {"10.0.0.1"});
  const MonoTime failed_at = dispatcher.now();
  round(addresses({"10.0.0.1"}, 0s), {"10.0.0.1"});
  EXPECT_LE(dispatcher.now() - failed_at, std::chrono::nanoseconds(2s + TargetSession::kTick));
  round(addresses({"10.0.0.1"}, 0s));  // recovered
  const MonoTime healthy_at = dispatcher.now();
  round(addresses({"10.0.0.1"}, 0s));
  EXPECT_GE(dispatcher.now() - healthy_at, std::chrono::nanoseconds(10s - TargetSession::kTick))
      << "back to the interval once healthy";
}

}  // namespace
}  // namespace bhe
