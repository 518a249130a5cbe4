// The hand-over point between the probe loop and everything that reads health (metrics, JSON,
// status page): a HealthSink on the loop's side, snapshots on the readers' side. Statuses are
// immutable and shared, so a write or a snapshot is one short mutex section that copies
// pointers; readers never call into the loop.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "probe/health/health_sink.h"

namespace bhe {

using StatusSnapshot = std::vector<std::shared_ptr<const TargetStatus>>;

class StatusBoard final : public HealthSink {
 public:
  void onStatus(const std::shared_ptr<const TargetStatus>& status) override;
  void onStateChanged(const TargetStatus&, HealthState) override {}
  void onRemoved(const TargetKey& key) override;

  StatusSnapshot snapshot() const;  // ordered by config position

  std::atomic<int> probes_in_flight{0};

 private:
  mutable std::mutex mutex_;
  std::map<TargetKey, std::shared_ptr<const TargetStatus>> targets_;
};

}  // namespace bhe
