// One probe of one target: resolve -> connect -> [tls] -> http -> classify, each phase its own
// unit (probe/resolve, probe/connect, probe/tls, probe/http), strung together here. The pipeline
// owns the probe's one deadline (its timeout bounds the whole probe, DNS included), the phase
// timings and the trace; every verdict comes from probe/classify.
#pragma once

#include <uv.h>

#include <memory>

#include "common/dispatcher.h"
#include "probe/probe_context.h"
#include "probe/prober.h"
#include "probe/resolve/resolver.h"
#include "probe/revocation/revocation_fetcher.h"

namespace bhe {

// The Prober of the running exporter.
class PipelineProber final : public Prober {
 public:
  PipelineProber(uv_loop_t* loop, Dispatcher& dispatcher, Resolver& resolver)
      : loop_(loop), dispatcher_(dispatcher), resolver_(resolver) {}

  // Probes started from now on use `context`; running ones keep theirs.
  void setContext(std::shared_ptr<const ProbeContext> context) { context_ = std::move(context); }
  // Where revocation answers are fetched and cached (one per process); without one, targets
  // with check_revocation are probed as if it were off.
  void setRevocationFetcher(RevocationFetcher* fetcher) { revocation_ = fetcher; }

  std::unique_ptr<ActiveProbe> start(const ProbeRequest& request, ProbeDone done) override;

 private:
  uv_loop_t* loop_;
  Dispatcher& dispatcher_;
  Resolver& resolver_;
  std::shared_ptr<const ProbeContext> context_;
  RevocationFetcher* revocation_ = nullptr;
};

}  // namespace bhe
