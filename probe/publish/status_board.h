// The hand-over point between the probe loop and everything that reads health (metrics, JSON,
// status page): a HealthSink on the loop's side, snapshots on the readers' side. Statuses are
// immutable and shared, so a write or a snapshot is one short mutex section that copies
// pointers; readers never call into the loop.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "probe/health/health_sink.h"

namespace bhe {

using StatusSnapshot = std::vector<std::shared_ptr<const TargetStatus>>;

// A pool's configured labels (for backend_health_pool_labels).
struct PoolLabels {
  std::string pool;
  std::vector<PoolLabel> labels;
};

// What the running configuration says beyond its targets.
struct ConfigFacts {
  std::vector<PoolLabels> pools;
  // The client certificates presented for mutual TLS: backend settings -> notAfter (unix).
  std::vector<std::pair<std::string, std::int64_t>> client_certificates;
};

class StatusBoard final : public HealthSink {
 public:
  void onStatus(const std::shared_ptr<const TargetStatus>& status) override;
  void onStateChanged(const TargetStatus&, HealthState) override {}
  void onRemoved(const TargetKey& key) override;

  // Every target's latest status, ordered by config position (`TargetStatus::order`).
  StatusSnapshot snapshot() const;

  // Replaced as a whole by each (re)load.
  void setConfigFacts(ConfigFacts facts);
  std::shared_ptr<const ConfigFacts> configFacts() const;

  std::atomic<int> probes_in_flight{0};

 private:
  void restoreOrder() const;  // with mutex_ held

  mutable std::mutex mutex_;
  // One entry per target, kept in config order between changes of membership or order, so
  // that a scrape copies it as it is: a probe completion replaces its target's entry in place;
  // an added, removed or reordered target marks the list for one sort by the next snapshot.
  mutable StatusSnapshot entries_;
  mutable std::unordered_map<TargetKey, std::size_t, TargetKeyHash> position_;  // in entries_
  mutable bool in_order_ = true;
  std::shared_ptr<const ConfigFacts> config_facts_ = std::make_shared<const ConfigFacts>();
};

}  // namespace bhe
