#include "exporter/reload_worker.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace bhe {

struct ReloadWorker::Shared {
  std::mutex mutex;
  std::condition_variable changed;
  Job job;  // the reload to run next; empty when there is none
  bool stop = false;
  bool busy = false;  // a job is running
  bool exited = false;
  // Where results go; null once closed, and a thread left behind then drops its result.
  LoopBridge* bridge = nullptr;
  ReloadWorker* owner = nullptr;
};

namespace {

std::string joined(const std::set<std::string>& triggers) {
  std::string out;
  for (const auto& t : triggers) {
    out += (out.empty() ? "" : ", ") + t;
  }
  return out;
}

}  // namespace

ReloadWorker::ReloadWorker(uv_loop_t* loop, MakeJob make_job)
    : make_job_(std::move(make_job)), bridge_(loop), shared_(std::make_shared<Shared>()) {
  shared_->bridge = &bridge_;
  shared_->owner = this;
}

// The thread starts with the first reload: an exporter that is never reloaded has none.
void ReloadWorker::startThread() {
  thread_ = std::thread([shared = shared_] {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(shared->mutex);
        shared->changed.wait(lock, [&] { return shared->stop || shared->job; });
        if (shared->stop) {
          break;
        }
        job = std::move(shared->job);
        shared->job = nullptr;
        shared->busy = true;
      }
      Apply apply;
      try {
        apply = job();
      } catch (const std::exception& e) {
        apply = [error = std::string(e.what())] { return ReloadOutcome{false, error + "\n"}; };
      }
      job = nullptr;  // its copies of the loop's state go here, not on the loop
      std::lock_guard lock(shared->mutex);
      shared->busy = false;
      if (shared->bridge != nullptr) {
        ReloadWorker* owner = shared->owner;
        shared->bridge->post([owner, apply = std::move(apply)] { owner->finished(apply); });
      }
      shared->changed.notify_all();
    }
    std::lock_guard lock(shared->mutex);
    shared->exited = true;
    shared->changed.notify_all();
  });
}

ReloadWorker::~ReloadWorker() {
  close(std::chrono::milliseconds(0));
}

void ReloadWorker::request(const std::string& trigger, Done done) {
  if (closed_) {
    return;
  }
  if (running_) {
    log::debug("config reload requested while one runs: it follows that one",
               {{"trigger", trigger}});
    next_.triggers.insert(trigger);
    if (done) {
      next_.waiters.push_back(std::move(done));
    }
    has_next_ = true;
    return;
  }
  Pending pending;
  pending.triggers.insert(trigger);
  if (done) {
    pending.waiters.push_back(std::move(done));
  }
  start(std::move(pending));
}

void ReloadWorker::start(Pending pending) {
  if (!thread_.joinable()) {
    startThread();
  }
  running_ = true;
  running_waiters_ = std::move(pending.waiters);
  Job job = make_job_(joined(pending.triggers));
  {
    std::lock_guard lock(shared_->mutex);
    shared_->job = std::move(job);
  }
  shared_->changed.notify_all();
}

void ReloadWorker::finished(const Apply& apply) {
  const ReloadOutcome outcome = apply();
  running_ = false;
  std::vector<Done> waiters = std::move(running_waiters_);
  running_waiters_.clear();
  for (auto& waiter : waiters) {
    waiter(outcome);
  }
  if (has_next_ && !closed_ && !running_) {
    has_next_ = false;
    Pending next = std::move(next_);
    next_ = {};
    start(std::move(next));
  }
}

void ReloadWorker::close(std::chrono::milliseconds grace) {
  if (closed_) {
    return;
  }
  closed_ = true;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->bridge = nullptr;
    shared_->stop = true;
    shared_->job = nullptr;
  }
  shared_->changed.notify_all();
  bridge_.close();
  if (thread_.joinable()) {  // else no reload ever ran
    bool reading = true;
    {
      std::unique_lock lock(shared_->mutex);
      reading = !shared_->changed.wait_for(lock, grace,
                                           [&] { return shared_->exited || !shared_->busy; });
    }
    if (!reading) {  // idle or done: the thread ends at once
      thread_.join();
    } else {
      log::warn("a config reload is still reading its files at shutdown; not waiting for it");
      thread_.detach();
    }
  }
  running_waiters_.clear();
  next_ = {};
  has_next_ = false;
}

}  // namespace bhe
