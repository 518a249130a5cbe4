// Configuration reloads off the probe loop. Reading, parsing and validating a configuration (its
// certificate files and the CA bundle too) can take long: a slow or hung file system, a FIFO, a
// huge file. The probe loop must keep its cadence meanwhile, so that part runs on a thread of its
// own, and only applying the validated result runs on the loop.
//
// One reload runs at a time. Requests that arrive while one runs (SIGHUP, POST /-/reload, the
// config watch) are folded into a single reload after it, which reads the files afresh, so
// nothing queues up however often they come.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/loop_bridge.h"

namespace bhe {

struct ReloadOutcome {
  bool ok = false;
  std::string errors;  // one line per problem (FILE:LINE:COL: ...)
};

class ReloadWorker {
 public:
  // Runs on the loop, with what the job of a reload prepared.
  using Apply = std::function<ReloadOutcome()>;
  // Runs on the worker thread: reads and validates, touching nothing the loop owns (it gets
  // copies), and returns the step that applies the result.
  using Job = std::function<Apply()>;
  // Made on the loop when a reload starts; `trigger` says what asked for it ("SIGHUP, POST
  // /-/reload" when requests were folded together).
  using MakeJob = std::function<Job(const std::string& trigger)>;
  using Done = std::function<void(const ReloadOutcome&)>;

  ReloadWorker(uv_loop_t* loop, MakeJob make_job);
  ReloadWorker(const ReloadWorker&) = delete;
  ReloadWorker& operator=(const ReloadWorker&) = delete;
  ~ReloadWorker();

  // Loop thread. Starts a reload, or folds the request into the one after the reload under way.
  // `done` (may be empty) runs on the loop with the outcome of the reload that covers the
  // request, unless the worker is closed first.
  void request(const std::string& trigger, Done done = {});

  // Loop thread. No more reloads; a result still to come is dropped. Waits up to `grace` for a
  // reload that is still reading, then leaves its thread behind (a read that never returns must
  // not hold up the shutdown). Idempotent.
  void close(std::chrono::milliseconds grace);

  bool running() const { return running_; }

 private:
  struct Shared;  // what the worker thread and the loop share; outlives a thread left behind
  struct Pending {
    std::set<std::string> triggers;
    std::vector<Done> waiters;
  };

  void startThread();
  void start(Pending pending);
  void finished(const Apply& apply);

  MakeJob make_job_;
  LoopBridge bridge_;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  bool running_ = false;
  std::vector<Done> running_waiters_;
  Pending next_;  // requests folded into the reload after the one under way
  bool has_next_ = false;
  bool closed_ = false;
};

}  // namespace bhe
