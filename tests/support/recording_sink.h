// A HealthSink that remembers what it was told, for assertions.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "probe/health/health_sink.h"

namespace bhe::test {

class RecordingSink final : public HealthSink {
 public:
  struct Change {
    TargetKey key;
    HealthState from;
    HealthState to;
    Reason reason;
  };

  void onStatus(const std::shared_ptr<const TargetStatus>& status) override {
    latest[status->key()] = status;
    ++statuses;
  }
  void onStateChanged(const TargetStatus& status, HealthState from) override {
    changes.push_back({status.key(), from, status.state, status.reason});
  }
  void onRemoved(const TargetKey& key) override {
    latest.erase(key);
    removed.push_back(key);
  }

  const TargetStatus& of(const TargetKey& key) const { return *latest.at(key); }

  std::map<TargetKey, std::shared_ptr<const TargetStatus>> latest;
  std::vector<Change> changes;
  std::vector<TargetKey> removed;
  std::size_t statuses = 0;
};

}  // namespace bhe::test
