// One probe of one target, start to finish, on the loop: resolve -> connect -> [tls] -> http ->
// classify. The session owns its libuv handles and frees itself once the result is delivered
// and every handle is closed, so the caller never waits on it and never frees it.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/targets.h"
#include "probe/probe_result.h"
#include "probe/resolver.h"
#include "probe/tls/chain_analysis.h"
#include "probe/tls/target_memory.h"
#include "probe/tls/tls_client.h"

namespace bhe {

// How a backend settings' HTTPS probes verify: the wolfSSL context (its trust anchors loaded)
// and whether those anchors are the well-known bundle or uploaded private roots.
struct TlsSettings {
  std::shared_ptr<const TlsContext> context;
  TrustMode mode = TrustMode::kWellKnown;
};

// Addresses that resolved last time, per host name. Kept across DNS failures and config reloads
// so FQDN servers stay probed when their resolver is down or their record disappears.
using LastKnownAddresses = std::unordered_map<std::string, std::vector<std::string>>;

struct ProbeEnvironment {
  uv_loop_t* loop = nullptr;
  std::shared_ptr<Resolver> resolver;
  LastKnownAddresses* last_known = nullptr;
  std::size_t max_response_bytes = 65536;
  // The TLS settings of an HTTPS target (null if they cannot be built: the probe then fails
  // with tls_handshake_error and the reason in its details).
  std::function<std::shared_ptr<const TlsSettings>(const ProbeTarget&)> tls_for;
  // What the TLS phase remembers about a configured target (null: nothing, e.g. an arbitrary
  // target). Looked up at each use: a reload may drop the target while its probe runs.
  std::function<TlsTargetMemory*(const ProbeTarget&)> tls_memory_for;
};

using ProbeDone = std::function<void(ProbeResult)>;

// A probe under way. The pointer is valid until its `done` callback has run.
class ActiveProbe {
 public:
  // Ends the probe now (shutdown); `done` still runs, later, with a failed result.
  virtual void cancel() = 0;

 protected:
  ~ActiveProbe() = default;
};

// Starts the probe; `done` runs exactly once, on the loop, never from inside this call.
ActiveProbe* startProbe(const ProbeEnvironment& env, std::shared_ptr<const ProbeTarget> target,
                        bool trace, ProbeDone done);

}  // namespace bhe
