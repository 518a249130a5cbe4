// Reloads on simulated time: kept targets keep state, counters and schedule; removed ones stop
// and leave the sinks; new ones start unknown; shutdown ends everything.
#include "probe/reconciler.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/fake_prober.h"
#include "tests/support/recording_sink.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;

ProbeTarget target(const std::string& server, std::chrono::milliseconds interval = 1s) {
  ProbeTarget t;
  t.key = {"pool", "settings", server};
  t.server_is_ip = true;
  t.interval = interval;
  t.unhealthy_interval = interval;
  t.timeout = interval;
  t.unhealthy_threshold = 1;
  return t;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  test::SimulatedDispatcher dispatcher;
  test::FakeProber prober{dispatcher};
  ProbeRunner runner{dispatcher, prober, 1000};
  Resolver resolver{dispatcher, nullptr};
  test::RecordingSink sink;
  Reconciler reconciler{dispatcher, resolver, runner, sink};

  // Finishes every running probe: successes except for `failing`.
  void finishAll(const std::string& failing = "") {
    for (std::size_t i = 0; i < prober.startedCount(); ++i) {
      if (prober.started(i).done) {
        if (prober.started(i).request.target->key.server == failing) {
          prober.fail(i, Reason::kTcpConnectError);
        } else {
          prober.succeed(i);
        }
      }
    }
    dispatcher.runPosted();
  }
};

TEST_F(ReconcilerTest, AReloadKeepsUntouchedTargetsAndReplacesTheRest) {
  reconciler.apply({target("a"), target("b"), target("c")});
  dispatcher.advance(1s + TargetSession::kTick);
  finishAll("b");
  const TargetKey a{"pool", "settings", "a"};
  const TargetKey b{"pool", "settings", "b"};
  const TargetKey c{"pool", "settings", "c"};
  const TargetKey d{"pool", "settings", "d"};
  ASSERT_EQ(sink.of(b).state, HealthState::kUnhealthy);
  const MonoTime a_due = reconciler.session(a)->nextDue();

  reconciler.apply({target("d"), target("a"), target("b", 5s)});
  EXPECT_EQ(reconciler.size(), 3u);
  EXPECT_EQ(sink.removed, std::vector<TargetKey>{c});
  EXPECT_EQ(sink.latest.count(c), 0u);
  EXPECT_EQ(reconciler.session(a)->nextDue(), a_due) << "same interval: same schedule";
  EXPECT_EQ(sink.of(a).state, HealthState::kHealthy);
  EXPECT_EQ(sink.of(a).probes.success, 1u) << "counters survive the reload";
  EXPECT_EQ(sink.of(a).order, 1u) << "position follows the new config";
  EXPECT_EQ(sink.of(b).state, HealthState::kUnhealthy) << "state survives an interval change";
  EXPECT_EQ(sink.of(b).target->interval, 5s);
  EXPECT_EQ(sink.of(d).state, HealthState::kUnknown);
  EXPECT_EQ(sink.of(d).reason, Reason::kNotYetProbed);
}

TEST_F(ReconcilerTest, ARemovedTargetsProbeIsCancelledAndNeverPublished) {
  reconciler.apply({target("a"), target("b")});
  dispatcher.advance(1s + TargetSession::kTick);
  ASSERT_EQ(prober.running(), 2u);
  reconciler.apply({target("a")});
  EXPECT_EQ(prober.cancelledCount(), 1u);
  finishAll();
  EXPECT_EQ(sink.latest.count(TargetKey{"pool", "settings", "b"}), 0u);
}

TEST_F(ReconcilerTest, AKeyListedTwiceIsProbedOnce) {
  reconciler.apply({target("a"), target("a")});
  EXPECT_EQ(reconciler.size(), 1u);
  dispatcher.advance(1s + TargetSession::kTick);
  EXPECT_EQ(prober.startedCount(), 1u);
}

TEST_F(ReconcilerTest, ShutdownCancelsEveryProbeAndStopsEverySchedule) {
  reconciler.apply({target("a"), target("b"), target("c")});
  dispatcher.advance(1s + TargetSession::kTick);
  reconciler.clear();
  runner.cancelAll();
  dispatcher.runPosted();
  EXPECT_EQ(prober.cancelledCount(), 3u);
  EXPECT_EQ(dispatcher.armedTimers(), 0u);
  dispatcher.advance(10s);
  EXPECT_EQ(prober.startedCount(), 3u);
}

// The distinct times at which the first round of `servers` targets at 1 s started.
std::size_t distinctFirstStarts(int servers) {
  test::SimulatedDispatcher dispatcher;
  test::FakeProber prober{dispatcher};
  ProbeRunner runner{dispatcher, prober, 100000};
  Resolver resolver{dispatcher, nullptr};
  test::RecordingSink sink;
  Reconciler reconciler{dispatcher, resolver, runner, sink};
  std::vector<ProbeTarget> targets;
  for (int i = 0; i < servers; ++i) {
    targets.push_back(target("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)));
  }
  reconciler.apply(targets);
  dispatcher.advance(1s);
  EXPECT_EQ(prober.startedCount(), static_cast<std::size_t>(servers));
  std::set<MonoTime> starts;
  for (std::size_t i = 0; i < prober.startedCount(); ++i) {
    starts.insert(prober.started(i).at);
  }
  return starts.size();
}

TEST(ReconcilerPhases, AFewHundredServersShareWakeUpsManyThousandSpreadOverTicks) {
  // 200 rounds a second: 50 ms steps, at most 20 start times in the first second.
  EXPECT_LE(distinctFirstStarts(200), 20u);
  // 4,000 a second: the 10 ms tick, up to 100 start times (four times the tick's 16 probes each).
  EXPECT_GT(distinctFirstStarts(4000), 80u);
}

}  // namespace
}  // namespace bhe
