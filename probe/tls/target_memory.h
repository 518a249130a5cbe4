// What the TLS phase carries from one probe of a target to the next: the verdict on the chain it
// presented (chain_verdict_memo.h) and what its last handshake settled on (TlsPeerHint). The
// engine keeps one per configured target; a probe reads and updates it synchronously.
#pragma once

#include "probe/tls/chain_verdict_memo.h"
#include "probe/tls/tls_client.h"

namespace bhe {

struct TlsTargetMemory {
  ChainVerdictMemo chain_verdict;
  TlsPeerHint peer;
};

}  // namespace bhe
