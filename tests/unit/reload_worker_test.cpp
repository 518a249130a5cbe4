#include "exporter/reload_worker.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/uv_handle.h"

namespace bhe {
namespace {

using std::chrono::milliseconds;

// A gate the jobs wait at until the test opens it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// What the jobs record. Shared with them: a job left behind by close() may outlive the test.
struct JobLog {
  Gate gate;
  std::mutex mutex;
  std::vector<std::string> triggers;
  std::vector<std::thread::id> threads;
  std::vector<std::thread::id> applied_on;
  std::atomic<int> started{0};
};

class ReloadWorkerTest : public ::testing::Test {
 protected:
  ReloadWorkerTest() { uv_loop_init(&loop_); }
  ~ReloadWorkerTest() override {
    uv_run(&loop_, UV_RUN_DEFAULT);  // closed handles go
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Turns the loop until `done` or ten seconds have passed.
  bool runUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }

  // A worker whose jobs record their trigger and thread, wait at the gate when `gated`, and
  // succeed; their results are applied on the loop.
  std::unique_ptr<ReloadWorker> makeWorker(bool gated) {
    return std::make_unique<ReloadWorker>(&loop_, [log = log_, gated](const std::string& trigger) {
      return [log, gated, trigger]() -> ReloadWorker::Apply {
        {
          std::lock_guard lock(log->mutex);
          log->triggers.push_back(trigger);
          log->threads.push_back(std::this_thread::get_id());
        }
        log->started.fetch_add(1);
        if (gated) {
          log->gate.pass();
        }
        return [log, trigger] {
          log->applied_on.push_back(std::this_thread::get_id());
          return ReloadOutcome{true, trigger};
        };
      };
    });
  }

  uv_loop_t loop_{};
  std::shared_ptr<JobLog> log_ = std::make_shared<JobLog>();
};

TEST_F(ReloadWorkerTest, ReadsOffTheLoopAndAppliesOnIt) {
  auto worker = makeWorker(false);
  std::optional<ReloadOutcome> outcome;
  worker->request("SIGHUP", [&](const ReloadOutcome& o) { outcome = o; });
  EXPECT_TRUE(worker->running());
  ASSERT_TRUE(runUntil([&] { return outcome.has_value(); }));
  EXPECT_TRUE(outcome->ok);
  EXPECT_EQ(outcome->errors, "SIGHUP");
  EXPECT_FALSE(worker->running());
  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->threads.size(), 1u);
  EXPECT_NE(log_->threads[0], std::this_thread::get_id());
  ASSERT_EQ(log_->applied_on.size(), 1u);
  EXPECT_EQ(log_->applied_on[0], std::this_thread::get_id());
  worker->close(milliseconds(1000));
}

// However many requests arrive while a reload reads, one more reload follows it, and every
// request is answered by a reload that started after it.
TEST_F(ReloadWorkerTest, RequestsDuringAReloadAreFoldedIntoOne) {
  auto worker = makeWorker(true);
  std::vector<std::string> answers;
  auto answer = [&](const ReloadOutcome& o) { answers.push_back(o.errors); };
  worker->request("SIGHUP", answer);
  ASSERT_TRUE(runUntil([&] { return log_->started.load() == 1; }));
  for (int i = 0; i < 100; ++i) {
    worker->request("config file changed");
  }
  worker->request("POST /-/reload", answer);
  worker->request("SIGHUP");
  // The loop turns while the job waits: nothing else starts.
  for (int i = 0; i < 20; ++i) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(log_->started.load(), 1);
  log_->gate.open();
  ASSERT_TRUE(runUntil([&] { return answers.size() == 2; }));
  EXPECT_EQ(answers[0], "SIGHUP");
  EXPECT_EQ(answers[1], "POST /-/reload, SIGHUP, config file changed");
  EXPECT_EQ(log_->started.load(), 2);
  EXPECT_EQ(log_->applied_on.size(), 2u);
  EXPECT_FALSE(worker->running());
  worker->close(milliseconds(1000));
}

TEST_F(ReloadWorkerTest, TheLoopKeepsTurningWhileAReloadIsBlocked) {
  auto worker = makeWorker(true);
  worker->request("SIGHUP");
  int ticks = 0;
  UvHandle<uv_timer_t> timer([this](uv_timer_t* h) { return uv_timer_init(&loop_, h); });
  timer->data = &ticks;
  uv_timer_start(
      timer.get(), [](uv_timer_t* t) { ++*static_cast<int*>(t->data); }, 1, 1);
  ASSERT_TRUE(runUntil([&] { return ticks >= 20; }));
  EXPECT_EQ(log_->applied_on.size(), 0u);
  timer.close();
  log_->gate.open();
  ASSERT_TRUE(runUntil([&] { return log_->applied_on.size() == 1; }));
  worker->close(milliseconds(1000));
}

// A reload that never returns does not hold up the shutdown, and its result, should it come
// after all, is applied nowhere.
TEST_F(ReloadWorkerTest, CloseLeavesABlockedReloadBehind) {
  auto worker = makeWorker(true);
  bool answered = false;
  worker->request("SIGHUP", [&](const ReloadOutcome&) { answered = true; });
  ASSERT_TRUE(runUntil([&] { return log_->started.load() == 1; }));
  const auto before = std::chrono::steady_clock::now();
  worker->close(milliseconds(50));
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  worker->request("SIGHUP");  // closed: ignored
  worker.reset();
  log_->gate.open();
  // The thread left behind finishes its job and drops the result with its hold on the log.
  ASSERT_TRUE(runUntil([&] { return log_.use_count() == 1; }));
  EXPECT_FALSE(answered);
  EXPECT_EQ(log_->applied_on.size(), 0u);
  EXPECT_EQ(log_->started.load(), 1);
}

TEST_F(ReloadWorkerTest, AJobThatThrowsIsAFailedReload) {
  ReloadWorker worker(&loop_, [](const std::string&) {
    return []() -> ReloadWorker::Apply { throw std::runtime_error("cannot read"); };
  });
  std::optional<ReloadOutcome> outcome;
  worker.request("SIGHUP", [&](const ReloadOutcome& o) { outcome = o; });
  ASSERT_TRUE(runUntil([&] { return outcome.has_value(); }));
  EXPECT_FALSE(outcome->ok);
  EXPECT_EQ(outcome->errors, "cannot read\n");
  worker.close(milliseconds(1000));
}

}  // namespace
}  // namespace bhe
