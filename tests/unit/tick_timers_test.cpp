#include "common/tick_timers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

using namespace std::chrono_literals;

class TickTimersTest : public ::testing::Test {
 protected:
  test::SimulatedDispatcher dispatcher;  // starts at 1 h: on the grid
  TickTimers ticks{dispatcher, 10ms};
  std::vector<std::string> fired;

  std::unique_ptr<Timer> timer(std::string name) {
    return ticks.createTimer([this, name] { fired.push_back(name); });
  }
};

TEST_F(TickTimersTest, FiresAtTheNextGridPointAtOrAfterTheDelay) {
  auto a = timer("a");
  a->arm(13ms);  // due at 13 ms: the grid point is 20 ms
  dispatcher.advance(19ms);
  EXPECT_TRUE(fired.empty());
  EXPECT_TRUE(a->armed());
  dispatcher.advance(1ms);
  EXPECT_EQ(fired, std::vector<std::string>{"a"});
  EXPECT_FALSE(a->armed());

  a->arm(10ms);  // a delay on the grid stays there
  dispatcher.advance(9ms);
  EXPECT_EQ(fired.size(), 1u);
  dispatcher.advance(1ms);
  EXPECT_EQ(fired.size(), 2u);
}

TEST_F(TickTimersTest, TimersDueInOneTickFireTogetherInArmingOrderBehindOneDispatcherTimer) {
  auto a = timer("a");
  auto b = timer("b");
  auto c = timer("c");
  auto later = timer("later");
  b->arm(11ms);
  a->arm(19ms);
  c->arm(20ms);
  later->arm(21ms);
  EXPECT_EQ(ticks.armedTimers(), 4u);
  EXPECT_EQ(dispatcher.armedTimers(), 1u);
  dispatcher.advance(20ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(ticks.armedTimers(), 1u);
  dispatcher.advance(10ms);
  EXPECT_EQ(fired.back(), "later");
  EXPECT_EQ(ticks.armedTimers(), 0u);
  EXPECT_EQ(dispatcher.armedTimers(), 0u) << "nothing armed, nothing to wake up for";
}

TEST_F(TickTimersTest, AnEarlierTimerMovesTheDispatcherTimerForward) {
  auto late = timer("late");
  auto early = timer("early");
  late->arm(500ms);
  early->arm(5ms);
  dispatcher.advance(10ms);
  EXPECT_EQ(fired, std::vector<std::string>{"early"});
  dispatcher.advance(490ms);
  EXPECT_EQ(fired.back(), "late");
}

TEST_F(TickTimersTest, DisarmedOrDestroyedTimersNeverFire) {
  auto a = timer("a");
  auto b = timer("b");
  a->arm(10ms);
  b->arm(10ms);
  a->disarm();
  b.reset();
  EXPECT_EQ(ticks.armedTimers(), 0u);
  EXPECT_EQ(dispatcher.armedTimers(), 0u);
  dispatcher.advance(1s);
  EXPECT_TRUE(fired.empty());
}

TEST_F(TickTimersTest, ACallbackMayDisarmDestroyOrReArmTimersOfTheSameTick) {
  std::unique_ptr<Timer> second;
  std::unique_ptr<Timer> third = timer("third");
  std::unique_ptr<Timer> first = ticks.createTimer([&] {
    fired.push_back("first");
    second.reset();   // due in this very tick: destroyed before its turn
    third->disarm();  // the same, disarmed
    first->arm(1ms);  // re-armed: the next grid point
  });
  second = timer("second");
  first->arm(10ms);
  second->arm(10ms);
  third->arm(10ms);
  dispatcher.advance(10ms);
  EXPECT_EQ(fired, std::vector<std::string>{"first"});
  EXPECT_TRUE(first->armed());
  EXPECT_EQ(ticks.armedTimers(), 1u);
  dispatcher.advance(10ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"first", "first"}));
  first->disarm();
}

TEST_F(TickTimersTest, ATimerMayDestroyItselfInItsCallback) {
  std::unique_ptr<Timer> self;
  self = ticks.createTimer([&] {
    self.reset();
    fired.push_back("gone");
  });
  self->arm(10ms);
  dispatcher.advance(10ms);
  EXPECT_EQ(fired, std::vector<std::string>{"gone"});
  EXPECT_EQ(ticks.armedTimers(), 0u);
}

TEST_F(TickTimersTest, AStalledLoopFiresEveryOverdueTimerOnceOnItsNextTurn) {
  auto a = timer("a");
  auto b = timer("b");
  a->arm(10ms);
  b->arm(50ms);
  dispatcher.stall(200ms);
  dispatcher.advance(1ms);
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b"}));
  dispatcher.advance(1s);
  EXPECT_EQ(fired.size(), 2u);
}

}  // namespace
}  // namespace bhe
