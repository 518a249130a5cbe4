// One probe of one address: connect -> [tls] -> http -> classify, each phase its own unit
// (probe/connect, probe/tls, probe/http), strung together here; the resolve phase before it runs
// once per round for all of an FQDN server's addresses (probe/server_round.h). The pipeline owns
// the probe's one deadline (the timeout bounds the whole probe, the resolve time included), the
// phase timings and the trace; every verdict comes from probe/classify.
#pragma once

#include <uv.h>

#include <memory>

#include "common/dispatcher.h"
#include "common/tick_timers.h"
#include "probe/probe_context.h"
#include "probe/prober.h"
#include "probe/revocation/revocation_fetcher.h"

namespace bhe {

// The Prober of the running exporter.
class PipelineProber final : public Prober {
 public:
  PipelineProber(uv_loop_t* loop, Dispatcher& dispatcher)
      : loop_(loop),
        dispatcher_(dispatcher),
        deadlines_(dispatcher, std::chrono::milliseconds(1)) {}

  // Probes started from now on use `context`; running ones keep theirs.
  void setContext(std::shared_ptr<const ProbeContext> context) { context_ = std::move(context); }
  // Where revocation answers are fetched and cached (one per process); without one, targets
  // with check_revocation are probed as if it were off.
  void setRevocationFetcher(RevocationFetcher* fetcher) { revocation_ = fetcher; }

  std::unique_ptr<ActiveProbe> start(const ProbeRequest& request, ProbeDone done) override;

 private:
  uv_loop_t* loop_;
  Dispatcher& dispatcher_;
  // Every probe's deadline, on a 1 ms grid (what libuv timers have): one dispatcher timer
  // instead of a libuv timer created, heaped and closed per probe.
  TickTimers deadlines_;
  std::shared_ptr<const ProbeContext> context_;
  RevocationFetcher* revocation_ = nullptr;
};

}  // namespace bhe
