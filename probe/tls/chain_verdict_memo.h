// The chain verdict of one target's previous probe, reused when the next probe presents the same
// chain under the same conditions. Servers present the same chain probe after probe, and judging
// it (parsing every certificate, checking signatures with generic big-integer code) costs more
// than the rest of the TLS client's work. The handshake itself, the server's signature included,
// is still done and verified by wolfSSL on every probe; only the analysis of identical bytes is
// skipped.
//
// A verdict is reused only when all of its inputs are equal to the previous probe's:
//   - the presented chain, byte for byte (a re-issued, re-ordered or switched certificate is a
//     different chain);
//   - the trust anchors (by identity: a reload builds new ones), the trust mode and the
//     expected host;
//   - the verification errors the TLS library reported during this handshake;
//   - `now` lies inside the time span for which the verdict holds (ChainVerdict::holds_from..
//     holds_until), which ends the second a judged certificate expires or starts when one becomes
//     valid: expiry is judged anew on the first probe after notAfter.
// Pure: no I/O, no clock of its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probe/tls/chain_analysis.h"

namespace bhe {

class ChainVerdictMemo {
 public:
  // analyzeChain(input), or the remembered verdict when every input matches. The reference is
  // valid until the next call.
  const ChainVerdict& analyze(const ChainAnalysisInput& input);
  // Whether the last analyze() reused the remembered verdict (for traces and tests).
  bool lastReused() const { return last_reused_; }

 private:
  bool matches(const ChainAnalysisInput& input) const;

  bool remembered_ = false;
  bool last_reused_ = false;
  std::vector<Der> presented_;
  std::uint64_t anchors_id_ = 0;  // 0 = no anchors
  TrustMode mode_ = TrustMode::kWellKnown;
  std::string expected_host_;
  bool judge_chain_and_expiry_ = true;
  std::vector<VerifyError> library_errors_;
  ChainVerdict verdict_;
};

}  // namespace bhe
