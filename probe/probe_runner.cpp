#include "probe/probe_runner.h"

#include <algorithm>

namespace bhe {

ProbeRunner::ProbeRunner(ProbeEnvironment env, int max_concurrent)
    : env_(std::move(env)), max_concurrent_(std::max(1, max_concurrent)) {}

void ProbeRunner::setMaxConcurrent(int max_concurrent) {
  max_concurrent_ = std::max(1, max_concurrent);
  drain();
}

void ProbeRunner::submit(std::shared_ptr<const ProbeTarget> target, bool trace,
                         std::uint64_t due_ns, ProbeDone done) {
  if (cancelled_) {
    return;
  }
  Pending p{std::move(target), trace, due_ns, std::move(done)};
  if (in_flight_ < max_concurrent_ && queue_.empty()) {
    launch(std::move(p));
  } else {
    queue_.push_back(std::move(p));
  }
}

void ProbeRunner::launch(Pending p) {
  ++in_flight_;
  if (lag_observer_ && p.due_ns != 0) {
    std::uint64_t now = uv_hrtime();
    lag_observer_(now > p.due_ns ? static_cast<double>(now - p.due_ns) / 1e9 : 0.0);
  }
  auto slot = active_.insert(active_.end(), nullptr);
  *slot = startProbe(env_, std::move(p.target), p.trace,
                     [this, slot, done = std::move(p.done)](ProbeResult result) {
                       --in_flight_;
                       active_.erase(slot);
                       if (cancelled_) {
                         return;
                       }
                       done(std::move(result));
                       drain();
                     });
}

void ProbeRunner::cancelAll() {
  cancelled_ = true;
  queue_.clear();
  for (ActiveProbe* probe : active_) {
    probe->cancel();
  }
}

void ProbeRunner::drain() {
  while (in_flight_ < max_concurrent_ && !queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    launch(std::move(p));
  }
}

}  // namespace bhe
