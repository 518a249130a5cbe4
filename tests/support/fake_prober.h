// A Prober whose probes the test finishes by hand: it records every start (what, when) and hands
// results over on a later loop turn, as the pipeline does.
#pragma once

#include <memory>
#include <vector>

#include "common/dispatcher.h"
#include "probe/prober.h"

namespace bhe::test {

class FakeProber final : public Prober {
 public:
  struct Started {
    ProbeRequest request;
    MonoTime at;
    ProbeDone done;  // empty once finished
    bool cancelled = false;
  };

  explicit FakeProber(Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  std::unique_ptr<ActiveProbe> start(const ProbeRequest& request, ProbeDone done) override;

  // Finishes started probe `index` with `result` (handed over on the next loop turn).
  void finish(std::size_t index, ProbeResult result);
  void succeed(std::size_t index) { finish(index, success()); }
  void fail(std::size_t index, Reason reason) { finish(index, failure(reason)); }

  static ProbeResult success();
  static ProbeResult failure(Reason reason);

  std::size_t startedCount() const { return started_.size(); }
  const Started& started(std::size_t index) const { return *started_.at(index); }
  // Probes started and not yet finished.
  std::size_t running() const;
  std::size_t cancelledCount() const;

 private:
  class Probe;
  Dispatcher& dispatcher_;
  std::vector<std::shared_ptr<Started>> started_;
};

}  // namespace bhe::test
