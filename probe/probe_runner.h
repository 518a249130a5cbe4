// Starts probes with at most max_concurrent_probes in flight; the rest wait in FIFO order, and
// how late each one starts against its due time is reported as schedule lag. Used by the target
// sessions, by `probe --once` and by on-demand probes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>

#include "common/dispatcher.h"
#include "probe/prober.h"

namespace bhe {

class ProbeRunner {
 public:
  using LagObserver = std::function<void(double lag_seconds)>;
  using InFlightObserver = std::function<void(int in_flight)>;
  using Ticket = std::uint64_t;  // never 0

  ProbeRunner(Dispatcher& dispatcher, Prober& prober, int max_concurrent);
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  // `due` is when the probe was meant to start (nullopt: now, no lag recorded). `done` runs once,
  // on a later loop turn, unless the ticket is cancelled first.
  Ticket submit(ProbeRequest request, std::optional<MonoTime> due, ProbeDone done);
  // A queued probe is dropped; a running one is ended. Its `done` never runs.
  void cancel(Ticket ticket);
  // Cancels everything and refuses new probes (shutdown).
  void cancelAll();

  void setMaxConcurrent(int max_concurrent);
  void setLagObserver(LagObserver observer) { lag_observer_ = std::move(observer); }
  // Told the number of probes in flight whenever it changes.
  void setInFlightObserver(InFlightObserver observer) { in_flight_observer_ = std::move(observer); }
  int inFlight() const { return static_cast<int>(running_.size()); }
  std::size_t queued() const { return queue_.size(); }

 private:
  struct Job {
    Ticket ticket;
    ProbeRequest request;
    std::optional<MonoTime> due;
    ProbeDone done;  // empty once cancelled
    std::unique_ptr<ActiveProbe> probe;
  };
  void launch(Job job);
  void onDone(std::list<Job>::iterator job, ProbeResult result);
  void drain();
  void reportInFlight();

  Dispatcher& dispatcher_;
  Prober& prober_;
  int max_concurrent_;
  Ticket next_ticket_ = 1;
  std::deque<Job> queue_;
  std::list<Job> running_;
  bool stopped_ = false;
  LagObserver lag_observer_;
  InFlightObserver in_flight_observer_;
  // Hand-overs of probes that outlive the runner (destroyed while they ran) find it expired.
  std::shared_ptr<ProbeRunner*> self_ = std::make_shared<ProbeRunner*>(this);
};

}  // namespace bhe
