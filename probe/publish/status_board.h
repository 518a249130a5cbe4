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

// A pool's configured labels (for backend_health_pool_labels).
struct PoolLabels {
  std::string pool;
  std::vector<PoolLabel> labels;
};

class StatusBoard final : public HealthSink {
 public:
  void onStatus(const std::shared_ptr<const TargetStatus>& status) override;
  void onStateChanged(const TargetStatus&, HealthState) override {}
  void onRemoved(const TargetKey& key) override;

  StatusSnapshot snapshot() const;  // ordered by config position

  // The pools of the running configuration, replaced as a whole by each (re)load.
  void setPools(std::vector<PoolLabels> pools);
  std::shared_ptr<const std::vector<PoolLabels>> pools() const;

  std::atomic<int> probes_in_flight{0};

 private:
  mutable std::mutex mutex_;
  std::map<TargetKey, std::shared_ptr<const TargetStatus>> targets_;
  std::shared_ptr<const std::vector<PoolLabels>> pools_ =
      std::make_shared<const std::vector<PoolLabels>>();
};

}  // namespace bhe
