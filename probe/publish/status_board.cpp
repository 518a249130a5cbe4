#include "probe/publish/status_board.h"

#include <algorithm>

namespace bhe {

void StatusBoard::onStatus(const std::shared_ptr<const TargetStatus>& status) {
  std::lock_guard lock(mutex_);
  targets_[status->key()] = status;
}

void StatusBoard::onRemoved(const TargetKey& key) {
  std::lock_guard lock(mutex_);
  targets_.erase(key);
}

StatusSnapshot StatusBoard::snapshot() const {
  StatusSnapshot out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(targets_.size());
    for (const auto& [key, status] : targets_) {
      out.push_back(status);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a->order < b->order; });
  return out;
}

void StatusBoard::setConfigFacts(ConfigFacts facts) {
  auto next = std::make_shared<const ConfigFacts>(std::move(facts));
  std::lock_guard lock(mutex_);
  config_facts_ = std::move(next);
}

std::shared_ptr<const ConfigFacts> StatusBoard::configFacts() const {
  std::lock_guard lock(mutex_);
  return config_facts_;
}

}  // namespace bhe
