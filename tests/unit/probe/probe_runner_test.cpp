// The runner on simulated time: the concurrency bound, FIFO queueing and its lag, cancellation.
#include "probe/probe_runner.h"

#include <gtest/gtest.h>

#include "tests/support/fake_prober.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;

ProbeRequest requestFor(const std::string& server) {
  auto target = std::make_shared<ProbeTarget>();
  target->key = {"p", "s", server};
  ProbeRequest request;
  request.target = target;
  request.address = server;
  return request;
}

class ProbeRunnerTest : public ::testing::Test {
 protected:
  test::SimulatedDispatcher dispatcher;
  test::FakeProber prober{dispatcher};
  ProbeRunner runner{dispatcher, prober, 2};
  std::vector<std::string> finished;
  std::vector<double> lags;

  void submit(const std::string& server, std::optional<MonoTime> due = std::nullopt) {
    runner.submit(requestFor(server), due,
                  [this, server](ProbeResult) { finished.push_back(server); });
  }
};

TEST_F(ProbeRunnerTest, AtMostMaxConcurrentRunTheRestQueueInOrder) {
  for (const char* s : {"a", "b", "c", "d", "e"}) {
    submit(s);
  }
  EXPECT_EQ(prober.startedCount(), 2u);
  EXPECT_EQ(runner.inFlight(), 2);
  EXPECT_EQ(runner.queued(), 3u);

  prober.succeed(1);  // "b" ends first: the queue head ("c") takes its slot
  dispatcher.runPosted();
  EXPECT_EQ(finished, std::vector<std::string>{"b"});
  ASSERT_EQ(prober.startedCount(), 3u);
  EXPECT_EQ(prober.started(2).request.target->key.server, "c");
  EXPECT_EQ(runner.inFlight(), 2);

  prober.succeed(0);
  prober.succeed(2);
  dispatcher.runPosted();
  ASSERT_EQ(prober.startedCount(), 5u);
  EXPECT_EQ(prober.started(3).request.target->key.server, "d");
  EXPECT_EQ(prober.started(4).request.target->key.server, "e");
}

TEST_F(ProbeRunnerTest, QueueingShowsUpAsScheduleLag) {
  runner.setLagObserver([this](double s) { lags.push_back(s); });
  const MonoTime due = dispatcher.now();
  submit("a", due);
  submit("b", due);
  submit("c", due);  // waits for a slot
  dispatcher.advance(1500ms);
  prober.succeed(0);
  dispatcher.runPosted();
  ASSERT_EQ(lags.size(), 3u);
  EXPECT_EQ(lags[0], 0.0);
  EXPECT_EQ(lags[1], 0.0);
  EXPECT_DOUBLE_EQ(lags[2], 1.5);
}

TEST_F(ProbeRunnerTest, CancelledProbesNeverReportAndFreeTheirSlot) {
  auto queued_ticket = ProbeRunner::Ticket{};
  auto running_ticket = runner.submit(requestFor("a"), std::nullopt,
                                      [this](ProbeResult) { finished.push_back("a"); });
  submit("b");
  queued_ticket = runner.submit(requestFor("c"), std::nullopt,
                                [this](ProbeResult) { finished.push_back("c"); });
  submit("d");
  runner.cancel(queued_ticket);  // dropped from the queue: never started
  runner.cancel(running_ticket);
  EXPECT_TRUE(prober.started(0).cancelled);
  dispatcher.runPosted();
  EXPECT_TRUE(finished.empty());
  // The cancelled probe's slot went to "d", skipping the dropped "c".
  ASSERT_EQ(prober.startedCount(), 3u);
  EXPECT_EQ(prober.started(2).request.target->key.server, "d");
}

TEST_F(ProbeRunnerTest, CancelAllEndsEverythingAndRefusesNewProbes) {
  int in_flight_seen = -1;
  runner.setInFlightObserver([&](int n) { in_flight_seen = n; });
  for (const char* s : {"a", "b", "c"}) {
    submit(s);
  }
  EXPECT_EQ(in_flight_seen, 2);
  runner.cancelAll();
  dispatcher.runPosted();
  EXPECT_EQ(prober.cancelledCount(), 2u);
  EXPECT_EQ(in_flight_seen, 0);
  EXPECT_TRUE(finished.empty());
  EXPECT_EQ(runner.submit(requestFor("late"), std::nullopt, [](ProbeResult) {}), 0u);
  EXPECT_EQ(prober.startedCount(), 2u);
}

TEST_F(ProbeRunnerTest, RaisingTheBoundStartsQueuedProbes) {
  for (const char* s : {"a", "b", "c", "d"}) {
    submit(s);
  }
  runner.setMaxConcurrent(4);
  EXPECT_EQ(prober.startedCount(), 4u);
}

}  // namespace
}  // namespace bhe
