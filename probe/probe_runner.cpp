#include "probe/probe_runner.h"

#include <algorithm>

namespace bhe {

ProbeRunner::ProbeRunner(Dispatcher& dispatcher, Prober& prober, int max_concurrent)
    : dispatcher_(dispatcher), prober_(prober), max_concurrent_(std::max(1, max_concurrent)) {}

ProbeRunner::~ProbeRunner() {
  cancelAll();
  // Probes still running hand their (ignored) results to nobody: their objects must outlive
  // the hand-over, which the dispatcher runs later.
  for (auto& job : running_) {
    dispatcher_.deferDelete(std::move(job.probe));
  }
}

void ProbeRunner::setMaxConcurrent(int max_concurrent) {
  max_concurrent_ = std::max(1, max_concurrent);
  drain();
}

ProbeRunner::Ticket ProbeRunner::submit(ProbeRequest request, std::optional<MonoTime> due,
                                        ProbeDone done) {
  if (stopped_) {
    return 0;
  }
  Job job{next_ticket_++, std::move(request), due, std::move(done), nullptr};
  const Ticket ticket = job.ticket;
  if (inFlight() < max_concurrent_ && queue_.empty()) {
    launch(std::move(job));
  } else {
    queue_.push_back(std::move(job));
  }
  return ticket;
}

void ProbeRunner::launch(Job job) {
  if (lag_observer_ && job.due) {
    const MonoTime now = dispatcher_.now();
    lag_observer_(now > *job.due ? std::chrono::duration<double>(now - *job.due).count() : 0.0);
  }
  auto it = running_.insert(running_.end(), std::move(job));
  std::weak_ptr<ProbeRunner*> runner = self_;
  it->probe = prober_.start(it->request, [runner, it](ProbeResult result) {
    if (auto self = runner.lock()) {
      (*self)->onDone(it, std::move(result));
    }
  });
  reportInFlight();
}

void ProbeRunner::reportInFlight() {
  if (in_flight_observer_) {
    in_flight_observer_(inFlight());
  }
}

void ProbeRunner::onDone(std::list<Job>::iterator job, ProbeResult result) {
  ProbeDone done = std::move(job->done);
  // This runs inside the probe's own hand-over: free it after that returns.
  dispatcher_.deferDelete(std::move(job->probe));
  running_.erase(job);
  reportInFlight();
  if (done) {
    done(std::move(result));
  }
  drain();
}

void ProbeRunner::cancel(Ticket ticket) {
  if (auto q = std::find_if(queue_.begin(), queue_.end(),
                            [&](const Job& j) { return j.ticket == ticket; });
      q != queue_.end()) {
    queue_.erase(q);
    return;
  }
  for (auto& job : running_) {
    if (job.ticket == ticket && job.done) {
      job.done = nullptr;
      job.probe->cancel();  // its slot is freed when the probe hands over its result
      return;
    }
  }
}

void ProbeRunner::cancelAll() {
  stopped_ = true;
  queue_.clear();
  for (auto& job : running_) {
    if (job.done) {
      job.done = nullptr;
      job.probe->cancel();
    }
  }
}

void ProbeRunner::drain() {
  while (!stopped_ && inFlight() < max_concurrent_ && !queue_.empty()) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    launch(std::move(job));
  }
}

}  // namespace bhe
