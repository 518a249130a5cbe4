// Where a target session's health goes: typed events, fanned out to the status board (what
// /metrics, /backend-health and the page read) and to the log. Sessions know no sink by name.
#pragma once

#include <memory>
#include <vector>

#include "probe/health/target_status.h"

namespace bhe {

class HealthSink {
 public:
  virtual ~HealthSink() = default;
  // A target's status was published: it was added or reconfigured, or a probe completed.
  virtual void onStatus(const std::shared_ptr<const TargetStatus>& status) = 0;
  // The state changed (published with onStatus just before).
  virtual void onStateChanged(const TargetStatus& status, HealthState from) = 0;
  // The target left the config; nothing about it arrives any more.
  virtual void onRemoved(const TargetKey& key) = 0;
};

// Every event to each sink, in order.
class HealthSinks final : public HealthSink {
 public:
  explicit HealthSinks(std::vector<HealthSink*> sinks) : sinks_(std::move(sinks)) {}
  void onStatus(const std::shared_ptr<const TargetStatus>& status) override {
    for (auto* s : sinks_) {
      s->onStatus(status);
    }
  }
  void onStateChanged(const TargetStatus& status, HealthState from) override {
    for (auto* s : sinks_) {
      s->onStateChanged(status, from);
    }
  }
  void onRemoved(const TargetKey& key) override {
    for (auto* s : sinks_) {
      s->onRemoved(key);
    }
  }

 private:
  std::vector<HealthSink*> sinks_;
};

}  // namespace bhe
