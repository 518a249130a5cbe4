#include "probe/status_board.h"

#include <algorithm>
#include <set>

namespace bhe {

void StatusBoard::put(const TargetStatus& status) {
  std::lock_guard lock(mutex_);
  targets_[status.key] = status;
}

void StatusBoard::retain(const std::vector<TargetKey>& keep) {
  std::set<TargetKey> wanted(keep.begin(), keep.end());
  std::lock_guard lock(mutex_);
  std::erase_if(targets_, [&](const auto& entry) { return !wanted.contains(entry.first); });
}

std::vector<TargetStatus> StatusBoard::snapshot() const {
  std::vector<TargetStatus> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(targets_.size());
    for (const auto& [key, status] : targets_) {
      out.push_back(status);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TargetStatus& a, const TargetStatus& b) { return a.order < b.order; });
  return out;
}

std::optional<TargetStatus> StatusBoard::find(const TargetKey& key) const {
  std::lock_guard lock(mutex_);
  auto it = targets_.find(key);
  if (it == targets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::size_t StatusBoard::size() const {
  std::lock_guard lock(mutex_);
  return targets_.size();
}

}  // namespace bhe
