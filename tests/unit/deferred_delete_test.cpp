// Dispatcher::deferDelete on the exporter's libuv dispatcher and on simulated time: an object
// outlives the call that deferred it and every task posted before it, and nothing deferred is
// leaked or freed twice, also when its destructor defers more or the dispatcher closes first.
#include <gtest/gtest.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "common/uv_dispatcher.h"
#include "tests/support/simulated_dispatcher.h"

namespace bhe {
namespace {

// Writes its name to `log` when freed; may defer a successor from its destructor.
struct Noted {
  Noted(std::string name, std::vector<std::string>& log) : name(std::move(name)), log(log) {}
  ~Noted() {
    log.push_back("~" + name);
    if (successor) {
      dispatcher->deferDelete(std::move(successor));
    }
  }
  std::string name;
  std::vector<std::string>& log;
  Dispatcher* dispatcher = nullptr;
  std::unique_ptr<Noted> successor;
};

class UvDeferredDelete : public ::testing::Test {
 protected:
  ~UvDeferredDelete() override {
    dispatcher->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  std::unique_ptr<Noted> noted(std::string name) {
    auto n = std::make_unique<Noted>(std::move(name), log);
    n->dispatcher = dispatcher.get();
    return n;
  }
  void turns() { uv_run(&loop, UV_RUN_DEFAULT); }

  uv_loop_t loop;
  int loop_ready = uv_loop_init(&loop);  // before the dispatcher, which starts a timer on it
  std::unique_ptr<UvDispatcher> dispatcher = std::make_unique<UvDispatcher>(&loop);
  std::vector<std::string> log;
};

TEST_F(UvDeferredDelete, AnObjectOutlivesTheCallAndEveryTaskPostedBeforeIt) {
  dispatcher->post([&] { log.push_back("first task"); });
  dispatcher->deferDelete(noted("a"));
  dispatcher->post([&] { log.push_back("second task"); });
  dispatcher->deferDelete(noted("b"));
  EXPECT_TRUE(log.empty());
  turns();
  EXPECT_EQ(log, (std::vector<std::string>{"first task", "~a", "second task", "~b"}));
}

TEST_F(UvDeferredDelete, ObjectsDeferredByATaskGoOnALaterTurnAfterThatTurnsTasks) {
  dispatcher->post([&] {
    dispatcher->deferDelete(noted("from a task"));
    log.push_back("task ends");
    dispatcher->post([&] { log.push_back("posted after it"); });
  });
  turns();
  EXPECT_EQ(log, (std::vector<std::string>{"task ends", "~from a task", "posted after it"}));
}

TEST_F(UvDeferredDelete, ADestructorThatDefersAnotherObjectFreesItOnALaterTurn) {
  auto a = noted("a");
  a->successor = noted("b");
  dispatcher->deferDelete(std::move(a));
  turns();
  EXPECT_EQ(log, (std::vector<std::string>{"~a", "~b"}));
}

TEST_F(UvDeferredDelete, ManyObjectsUnderSteadyDeferringAreEachFreedOnceInOrder) {
  // More than the list keeps before it drops its freed front, deferred while others are freed.
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    auto n = noted("n" + std::to_string(i));
    if (i % 3 == 0) {
      n->successor = noted("s" + std::to_string(i));
    }
    dispatcher->deferDelete(std::move(n));
  }
  for (int i = 0; i < 300; ++i) {
    expected.push_back("~n" + std::to_string(i));
  }
  for (int i = 0; i < 300; i += 3) {
    expected.push_back("~s" + std::to_string(i));
  }
  turns();
  EXPECT_EQ(log, expected);
}

TEST_F(UvDeferredDelete, ClosingFreesWhatStillWaitsAndLaterObjectsGoAtOnce) {
  auto a = noted("a");
  a->successor = noted("b");
  dispatcher->deferDelete(std::move(a));
  dispatcher->post([&] { log.push_back("dropped task"); });
  dispatcher->close();
  EXPECT_EQ(log, (std::vector<std::string>{"~a", "~b"}));
  dispatcher->deferDelete(noted("after close"));
  EXPECT_EQ(log.back(), "~after close");
  turns();
  EXPECT_EQ(log.size(), 3u);
}

TEST(UvDispatcherDestroyed, WithoutClosingFreesWhatStillWaitsAlsoWhatTheirDestructorsDefer) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::string> log;
  {
    UvDispatcher dispatcher(&loop);
    auto a = std::make_unique<Noted>("a", log);
    a->dispatcher = &dispatcher;
    a->successor = std::make_unique<Noted>("b", log);
    a->successor->dispatcher = &dispatcher;
    dispatcher.deferDelete(std::move(a));
    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log, (std::vector<std::string>{"~a", "~b"}));
  uv_run(&loop, UV_RUN_DEFAULT);  // the post queue's handle goes
  uv_loop_close(&loop);
}

TEST(SimulatedDeferredDelete,
     AnObjectOutlivesEveryTaskPostedBeforeItAndTheRestGoWithTheDispatcher) {
  std::vector<std::string> log;
  {
    test::SimulatedDispatcher dispatcher;
    dispatcher.post([&] { log.push_back("task"); });
    dispatcher.deferDelete(std::make_unique<Noted>("a", log));
    dispatcher.runPosted();
    EXPECT_EQ(log, (std::vector<std::string>{"task", "~a"}));
    dispatcher.deferDelete(std::make_unique<Noted>("b", log));
    EXPECT_EQ(log.size(), 2u);
  }
  EXPECT_EQ(log, (std::vector<std::string>{"task", "~a", "~b"}));
}

}  // namespace
}  // namespace bhe
