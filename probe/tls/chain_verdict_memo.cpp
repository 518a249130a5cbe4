#include "probe/tls/chain_verdict_memo.h"

#include <algorithm>

namespace bhe {
namespace {

std::uint64_t anchorsId(const TrustAnchors* anchors) {
  return anchors != nullptr ? anchors->id() : 0;
}

}  // namespace

bool ChainVerdictMemo::matches(const ChainAnalysisInput& in) const {
  return remembered_ && in.now >= verdict_.holds_from && in.now <= verdict_.holds_until &&
         anchorsId(in.anchors) == anchors_id_ && in.mode == mode_ &&
         in.expected_host == expected_host_ &&
         in.judge_chain_and_expiry == judge_chain_and_expiry_ &&
         std::ranges::equal(in.presented, presented_) &&
         std::ranges::equal(in.library_errors, library_errors_);
}

const ChainVerdict& ChainVerdictMemo::analyze(const ChainAnalysisInput& in) {
  last_reused_ = matches(in);
  if (last_reused_) {
    return verdict_;
  }
  verdict_ = analyzeChain(in);
  presented_.assign(in.presented.begin(), in.presented.end());
  anchors_id_ = anchorsId(in.anchors);
  mode_ = in.mode;
  expected_host_ = in.expected_host;
  judge_chain_and_expiry_ = in.judge_chain_and_expiry;
  library_errors_.assign(in.library_errors.begin(), in.library_errors.end());
  remembered_ = true;
  return verdict_;
}

}  // namespace bhe
