#include "probe/health/health_state.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

TEST(HealthState, StartsUnknownNotYetProbed) {
  HealthStateMachine m(3, 1);
  EXPECT_EQ(m.state(), HealthState::kUnknown);
  EXPECT_EQ(m.reason(), Reason::kNotYetProbed);
  EXPECT_FALSE(m.probed());
}

TEST(HealthState, FirstProbeDecides) {
  HealthStateMachine ok(3, 2);
  auto t = ok.observeSuccess();
  EXPECT_TRUE(t.changed);
  EXPECT_EQ(ok.state(), HealthState::kHealthy);

  HealthStateMachine bad(3, 2);
  t = bad.observeFailure(Reason::kTcpConnectError);
  EXPECT_TRUE(t.changed);
  EXPECT_EQ(bad.state(), HealthState::kUnhealthy);
  EXPECT_EQ(bad.reason(), Reason::kTcpConnectError);

  HealthStateMachine unknown(3, 2);
  t = unknown.observeFailure(Reason::kDnsServerUnreachable);
  EXPECT_FALSE(t.changed);  // unknown (not probed) -> unknown (DNS): same state, new reason
  EXPECT_EQ(unknown.state(), HealthState::kUnknown);
  EXPECT_EQ(unknown.reason(), Reason::kDnsServerUnreachable);
}

TEST(HealthState, UnhealthyThresholdCountsConsecutiveFailures) {
  HealthStateMachine m(3, 1);
  m.observeSuccess();
  EXPECT_FALSE(m.observeFailure(Reason::kBackendTimeout).changed);
  EXPECT_FALSE(m.observeFailure(Reason::kBackendTimeout).changed);
  EXPECT_EQ(m.state(), HealthState::kHealthy);  // two failures, then recovery: stays healthy
  EXPECT_FALSE(m.observeSuccess().changed);
  EXPECT_FALSE(m.observeFailure(Reason::kBackendTimeout).changed);
  EXPECT_FALSE(m.observeFailure(Reason::kBackendTimeout).changed);
  auto t = m.observeFailure(Reason::kHttpStatusMismatch);  // the third in a row flips it
  EXPECT_TRUE(t.changed);
  EXPECT_EQ(t.from, HealthState::kHealthy);
  EXPECT_EQ(t.to, HealthState::kUnhealthy);
  EXPECT_EQ(m.reason(), Reason::kHttpStatusMismatch);  // the latest failure's reason
}

TEST(HealthState, HealthyThresholdNeedsConsecutiveSuccesses) {
  HealthStateMachine m(1, 2);
  m.observeFailure(Reason::kTcpConnectError);
  EXPECT_FALSE(m.observeSuccess().changed);
  EXPECT_EQ(m.state(), HealthState::kUnhealthy);
  EXPECT_FALSE(m.observeFailure(Reason::kTcpConnectError).changed);  // resets the streak
  EXPECT_FALSE(m.observeSuccess().changed);
  EXPECT_TRUE(m.observeSuccess().changed);
  EXPECT_EQ(m.state(), HealthState::kHealthy);
}

TEST(HealthState, WhileNotHealthyTheLatestReasonDecidesUnhealthyOrUnknown) {
  HealthStateMachine m(1, 1);
  m.observeFailure(Reason::kTcpConnectError);
  auto t = m.observeFailure(Reason::kNetworkUnreachable);
  EXPECT_TRUE(t.changed);
  EXPECT_EQ(m.state(), HealthState::kUnknown);
  EXPECT_EQ(m.reason(), Reason::kNetworkUnreachable);
  t = m.observeFailure(Reason::kNetworkUnreachable);
  EXPECT_FALSE(t.changed);
  t = m.observeFailure(Reason::kBackendTimeout);
  EXPECT_TRUE(t.changed);
  EXPECT_EQ(m.state(), HealthState::kUnhealthy);
}

}  // namespace
}  // namespace bhe
