// A target's session on simulated time: thresholds over sequences of outcomes, the schedule
// (first-probe spreading, no doubled probe, skipping when behind) and cancellation.
#include "probe/health/target_session.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/fake_prober.h"
#include "tests/support/recording_sink.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const ProbeTarget> target(const std::string& server,
                                          std::chrono::milliseconds interval = 1s,
                                          int unhealthy_threshold = 3, int healthy_threshold = 1) {
  auto t = std::make_shared<ProbeTarget>();
  t->key = {"pool", "settings", server};
  t->server_is_ip = true;  // no resolve phase: one member, the server itself
  t->interval = interval;
  t->unhealthy_interval = interval;
  t->timeout = interval;
  t->unhealthy_threshold = unhealthy_threshold;
  t->healthy_threshold = healthy_threshold;
  return t;
}

class TargetSessionTest : public ::testing::Test {
 protected:
  test::SimulatedDispatcher dispatcher;
  test::FakeProber prober{dispatcher};
  ProbeRunner runner{dispatcher, prober, 1000};
  Resolver resolver{dispatcher, nullptr};
  test::RecordingSink sink;
  TickTimers schedule_timers{dispatcher, TargetSession::kTick};
  SessionContext context{dispatcher, resolver, runner, sink, schedule_timers};

  std::unique_ptr<TargetSession> session(std::shared_ptr<const ProbeTarget> t) {
    return std::make_unique<TargetSession>(context, std::move(t), 0);
  }
  // Lets the next probe start, then finishes it.
  void probeOnce(bool success, Reason reason = Reason::kTcpConnectError) {
    const std::size_t before = prober.startedCount();
    for (int i = 0; i < 100 && prober.startedCount() == before; ++i) {
      dispatcher.advance(100ms);
    }
    ASSERT_EQ(prober.startedCount(), before + 1) << "no probe came due";
    if (success) {
      prober.succeed(before);
    } else {
      prober.fail(before, reason);
    }
    dispatcher.runPosted();
  }
};

TEST_F(TargetSessionTest, StartsUnknownNotYetProbed) {
  auto s = session(target("a"));
  const TargetStatus& status = sink.of(s->target()->key);
  EXPECT_EQ(status.state, HealthState::kUnknown);
  EXPECT_EQ(status.reason, Reason::kNotYetProbed);
  EXPECT_EQ(status.last, nullptr);
  EXPECT_EQ(prober.startedCount(), 0u);
}

TEST_F(TargetSessionTest, ThresholdsOverASequenceOfOutcomes) {
  auto s = session(target("a", 1s, /*unhealthy=*/3, /*healthy=*/2));
  const TargetKey key = s->target()->key;
  probeOnce(true);  // the first probe decides
  EXPECT_EQ(sink.of(key).state, HealthState::kHealthy);
  probeOnce(false);
  probeOnce(false);
  EXPECT_EQ(sink.of(key).state, HealthState::kHealthy) << "2 of 3 failures";
  EXPECT_EQ(sink.of(key).details,
            "Last probe failed (2 of 3 failures before unhealthy): tcp_connect_error: "
            "tcp_connect_error details");
  probeOnce(false, Reason::kBackendTimeout);
  EXPECT_EQ(sink.of(key).state, HealthState::kUnhealthy);
  EXPECT_EQ(sink.of(key).reason, Reason::kBackendTimeout) << "the latest failure's reason";
  probeOnce(false, Reason::kNetworkUnreachable);
  EXPECT_EQ(sink.of(key).state, HealthState::kUnknown) << "network_unreachable is unknown";
  probeOnce(true);
  EXPECT_EQ(sink.of(key).state, HealthState::kUnknown) << "1 of 2 successes";
  EXPECT_EQ(sink.of(key).details, "network_unreachable details");
  probeOnce(true);
  EXPECT_EQ(sink.of(key).state, HealthState::kHealthy);

  const TargetStatus& status = sink.of(key);
  EXPECT_EQ(status.probes.success, 3u);
  EXPECT_EQ(status.probes.failures[static_cast<int>(Reason::kTcpConnectError)], 2u);
  EXPECT_EQ(status.probes.failures[static_cast<int>(Reason::kBackendTimeout)], 1u);
  EXPECT_EQ(status.probes.failures[static_cast<int>(Reason::kNetworkUnreachable)], 1u);
  EXPECT_EQ(status.state_changes, 4u);  // unknown->healthy->unhealthy->unknown->healthy
  ASSERT_EQ(sink.changes.size(), 4u);
  EXPECT_EQ(sink.changes[1].from, HealthState::kHealthy);
  EXPECT_EQ(sink.changes[1].to, HealthState::kUnhealthy);
}

TEST_F(TargetSessionTest, FirstProbesAreSpreadOverTheFirstIntervalAndStable) {
  std::vector<std::unique_ptr<TargetSession>> sessions;
  const MonoTime start = dispatcher.now();
  for (int i = 0; i < 200; ++i) {
    sessions.push_back(session(target("10.0.0." + std::to_string(i), 10s)));
  }
  dispatcher.advance(10s + TargetSession::kTick);
  ASSERT_EQ(prober.startedCount(), 200u) << "every target probed within its first interval";
  std::set<std::int64_t> seconds_used;
  for (std::size_t i = 0; i < prober.startedCount(); ++i) {
    seconds_used.insert(
        std::chrono::duration_cast<std::chrono::seconds>(prober.started(i).at - start).count());
  }
  EXPECT_GE(seconds_used.size(), 8u) << "first probes bunched together";

  // The offset is a function of the key: a second exporter (or a restart) spreads the same way.
  test::SimulatedDispatcher other_dispatcher;
  test::FakeProber other_prober{other_dispatcher};
  ProbeRunner other_runner{other_dispatcher, other_prober, 1000};
  Resolver other_resolver{other_dispatcher, nullptr};
  TickTimers other_timers{other_dispatcher, TargetSession::kTick};
  SessionContext other{other_dispatcher, other_resolver, other_runner, sink, other_timers};
  TargetSession again(other, target("10.0.0.7", 10s), 0);
  TargetSession first(context, target("10.0.0.7", 10s), 0);
  EXPECT_EQ(again.nextDue() - other_dispatcher.now(), first.nextDue() - dispatcher.now());
}

TEST_F(TargetSessionTest, AProbeThatOutlastsItsIntervalIsNotDoubled) {
  auto s = session(target("a", 1s));
  dispatcher.advance(1s + TargetSession::kTick);
  ASSERT_EQ(prober.startedCount(), 1u);
  dispatcher.advance(3500ms);  // three more intervals come due while it runs
  EXPECT_EQ(prober.startedCount(), 1u) << "never two probes in flight";
  EXPECT_TRUE(s->roundInFlight());
  prober.succeed(0);
  dispatcher.runPosted();
  EXPECT_EQ(prober.startedCount(), 2u) << "the probe that came due starts right after";
}

TEST_F(TargetSessionTest, IntervalsMissedWhileTheLoopStalledAreSkippedNotMadeUp) {
  auto s = session(target("a", 1s));
  dispatcher.advance(1s + TargetSession::kTick);
  ASSERT_EQ(prober.startedCount(), 1u);
  prober.succeed(0);
  dispatcher.runPosted();
  dispatcher.stall(5500ms);  // the loop was blocked for five and a half intervals
  // The backend answers at once: over the next 2 s the session probes once per interval (the
  // overdue probe, then on schedule), not the five intervals it missed in a burst.
  const std::size_t before = prober.startedCount();
  for (int step = 0; step < 200; ++step) {
    dispatcher.advance(10ms);
    for (std::size_t j = 0; j < prober.startedCount(); ++j) {
      prober.succeed(j);
    }
  }
  EXPECT_GE(prober.startedCount() - before, 2u);
  EXPECT_LE(prober.startedCount() - before, 3u);
}

TEST_F(TargetSessionTest, ProbesStartOnTheTickGrid) {
  auto a = session(target("a", 1s));
  auto b = session(target("b", 1s));
  dispatcher.advance(3s);
  for (std::size_t i = 0; i < prober.startedCount(); ++i) {
    const auto since_epoch = prober.started(i).at.count();
    EXPECT_EQ(since_epoch % std::chrono::nanoseconds(TargetSession::kTick).count(), 0) << i;
  }
}

TEST_F(TargetSessionTest, RoundsStartWhenDueOnThePhaseSteps) {
  std::vector<double> lags;
  runner.setLagObserver([&](double lag) { lags.push_back(lag); });
  context.phase_step = 50ms;
  dispatcher.advance(3ms);  // sessions made off the grid
  std::vector<std::unique_ptr<TargetSession>> sessions;
  for (int i = 0; i < 100; ++i) {
    sessions.push_back(session(target("10.0.1." + std::to_string(i), 1s)));
  }
  for (int step = 0; step < 300; ++step) {
    dispatcher.advance(10ms);
    for (std::size_t j = 0; j < prober.startedCount(); ++j) {
      if (prober.started(j).done) {
        prober.succeed(j);
      }
    }
    dispatcher.runPosted();
  }
  ASSERT_GE(prober.startedCount(), 200u);
  std::set<std::int64_t> first_starts;
  for (std::size_t i = 0; i < prober.startedCount(); ++i) {
    const auto at = prober.started(i).at;
    EXPECT_EQ(at % std::chrono::nanoseconds(50ms), MonoTime(0)) << i;
    if (i < sessions.size()) {
      first_starts.insert(at.count());
    }
  }
  EXPECT_GE(first_starts.size(), 15u) << "still spread over the interval's 20 steps";
  ASSERT_EQ(lags.size(), prober.startedCount());
  for (double lag : lags) {
    EXPECT_EQ(lag, 0.0) << "a round due at a grid point starts at that point, not a tick later";
  }
}

TEST(PhaseStep, FewerRoundsASecondShareCoarserSteps) {
  EXPECT_EQ(TargetSession::phaseStepFor(2000), TargetSession::kTick);
  EXPECT_EQ(TargetSession::phaseStepFor(1e6), TargetSession::kTick);
  EXPECT_EQ(TargetSession::phaseStepFor(1500), 20ms);  // 32 rounds take 21 ms
  EXPECT_EQ(TargetSession::phaseStepFor(500), 60ms);   // 32 rounds take 64 ms
  EXPECT_EQ(TargetSession::phaseStepFor(300), TargetSession::kMaxPhaseStep);
  EXPECT_EQ(TargetSession::phaseStepFor(1), TargetSession::kMaxPhaseStep);
  EXPECT_EQ(TargetSession::phaseStepFor(0), TargetSession::kMaxPhaseStep);
  for (double rate : {3.0, 333.0, 640.0, 777.0, 1234.0, 5000.0}) {
    const auto step = TargetSession::phaseStepFor(rate);
    EXPECT_EQ(step % TargetSession::kTick, 0ms) << rate;
    EXPECT_LE(step, TargetSession::kMaxPhaseStep) << rate;
    EXPECT_GE(step, TargetSession::kTick) << rate;
  }
}

TEST_F(TargetSessionTest, DestroyingTheSessionCancelsItsProbe) {
  auto s = session(target("a", 1s));
  const TargetKey key = s->target()->key;
  dispatcher.advance(1s + TargetSession::kTick);
  ASSERT_EQ(prober.startedCount(), 1u);
  const std::size_t statuses = sink.statuses;
  s.reset();
  dispatcher.runPosted();
  EXPECT_TRUE(prober.started(0).cancelled);
  EXPECT_EQ(sink.statuses, statuses) << "a cancelled probe's result is never applied";
  dispatcher.advance(5s);
  EXPECT_EQ(prober.startedCount(), 1u) << "no probe after the session is gone";
}

TEST_F(TargetSessionTest, UpdateKeepsStateAndScheduleUnlessTheIntervalChanges) {
  auto s = session(target("a", 10s, 1));
  const TargetKey key = s->target()->key;
  dispatcher.advance(10s + TargetSession::kTick);
  prober.fail(0, Reason::kTcpConnectError);
  dispatcher.runPosted();
  const MonoTime due = s->nextDue();
  s->update(target("a", 10s, 5), 3);  // new thresholds, same interval
  EXPECT_EQ(s->nextDue(), due);
  EXPECT_EQ(sink.of(key).state, HealthState::kUnhealthy);
  EXPECT_EQ(sink.of(key).order, 3u);
  EXPECT_EQ(sink.of(key).probes.failures[static_cast<int>(Reason::kTcpConnectError)], 1u);
  s->update(target("a", 2s, 5), 3);
  EXPECT_LT(s->nextDue() - dispatcher.now(), std::chrono::nanoseconds(2s)) << "rescheduled";
}

}  // namespace
}  // namespace bhe
