// The seam between scheduling and probing: the runner and the sessions start probes through a
// Prober and never see sockets. The exporter's Prober is the pipeline (probe_pipeline.h); unit
// tests of scheduling use one whose probes they finish by hand, on simulated time.
#pragma once

#include <functional>
#include <memory>

#include "config/targets.h"
#include "probe/probe_result.h"
#include "probe/tls/target_memory.h"

namespace bhe {

// One probe of one address of a target: connect, [tls], http. An FQDN server's name was resolved
// before (probe/server_round.h): that time counts towards the probe's timeout and is reported as
// its dns phase.
struct ProbeRequest {
  std::shared_ptr<const ProbeTarget> target;
  std::string address;  // the IP-literal server, or one address of the FQDN server's answer
  bool trace = false;   // record the step-by-step log (ProbeResult::trace)
  std::chrono::nanoseconds resolved_in{0};
  bool dns_stale = false;  // `address` is a last-known-good address
  // What the TLS phase remembers about this address of a scheduled target from one probe to the
  // next (the chain verdict, the handshake's hint); null for on-demand probes.
  std::shared_ptr<TlsTargetMemory> tls_memory;
};

using ProbeDone = std::function<void(ProbeResult)>;

class ActiveProbe {
 public:
  virtual ~ActiveProbe() = default;  // only after `done` has run
  // Ends the probe now; `done` still runs, on a later loop turn, with a failed result.
  virtual void cancel() = 0;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // `done` runs exactly once, on a later loop turn (never from inside this call). The returned
  // object must live until then.
  virtual std::unique_ptr<ActiveProbe> start(const ProbeRequest& request, ProbeDone done) = 0;
};

}  // namespace bhe
