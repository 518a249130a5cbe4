#include "probe/publish/status_board.h"

#include <algorithm>
#include <utility>

namespace bhe {

void StatusBoard::onStatus(const std::shared_ptr<const TargetStatus>& status) {
  std::shared_ptr<const TargetStatus> replaced;  // released after the lock: it may be the last
  std::lock_guard lock(mutex_);
  // Between changes of membership a target's entry sits at its config position, and statuses of
  // one target share its ProbeTarget: found without hashing and comparing its key strings.
  if (status->order < entries_.size()) {
    auto& entry = entries_[status->order];
    if (entry->target == status->target) {
      in_order_ = in_order_ && entry->order == status->order;
      replaced = std::exchange(entry, status);
      return;
    }
  }
  const auto [at, added] = position_.try_emplace(status->key(), entries_.size());
  if (added) {
    in_order_ = in_order_ && (entries_.empty() || entries_.back()->order <= status->order);
    entries_.push_back(status);
    return;
  }
  auto& entry = entries_[at->second];
  in_order_ = in_order_ && entry->order == status->order;
  replaced = std::exchange(entry, status);
}

void StatusBoard::onRemoved(const TargetKey& key) {
  std::shared_ptr<const TargetStatus> removed;
  std::lock_guard lock(mutex_);
  const auto at = position_.find(key);
  if (at == position_.end()) {
    return;
  }
  const std::size_t i = at->second;
  position_.erase(at);
  removed = std::move(entries_[i]);
  if (i + 1 != entries_.size()) {
    // The last entry fills the hole: the list is out of order until the next snapshot.
    entries_[i] = std::move(entries_.back());
    position_[entries_[i]->key()] = i;
    in_order_ = false;
  }
  entries_.pop_back();
}

void StatusBoard::restoreOrder() const {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const auto& a, const auto& b) { return a->order < b->order; });
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    position_[entries_[i]->key()] = i;
  }
  in_order_ = true;
}

StatusSnapshot StatusBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  if (!in_order_) {
    restoreOrder();
  }
  return entries_;
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
