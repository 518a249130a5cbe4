// Starts probes with at most max_concurrent_probes in flight; the rest wait in FIFO order.
// Used by the scheduler, by `probe --once` and by on-demand probes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>

#include "probe/probe_session.h"

namespace bhe {

class ProbeRunner {
 public:
  // Called when a queued probe actually starts, with how late it is against `due_ns`.
  using LagObserver = std::function<void(double lag_seconds)>;

  ProbeRunner(ProbeEnvironment env, int max_concurrent);

  // `due_ns` is the uv_hrtime() at which the probe was meant to start (0 = now).
  void submit(std::shared_ptr<const ProbeTarget> target, bool trace, std::uint64_t due_ns,
              ProbeDone done);

  // Ends every probe under way and drops the queue; no `done` callback runs afterwards.
  void cancelAll();

  void setMaxConcurrent(int max_concurrent);
  void setEnvironment(ProbeEnvironment env) { env_ = std::move(env); }
  void setLagObserver(LagObserver observer) { lag_observer_ = std::move(observer); }
  int inFlight() const { return in_flight_; }
  std::size_t queued() const { return queue_.size(); }

 private:
  struct Pending {
    std::shared_ptr<const ProbeTarget> target;
    bool trace;
    std::uint64_t due_ns;
    ProbeDone done;
  };
  void launch(Pending p);
  void drain();

  ProbeEnvironment env_;
  int max_concurrent_;
  int in_flight_ = 0;
  std::deque<Pending> queue_;
  std::list<ActiveProbe*> active_;
  bool cancelled_ = false;
  LagObserver lag_observer_;
};

}  // namespace bhe
