// "Log edges, count everything": one log line per state change, with the reason and details.
#pragma once

#include "probe/health/health_sink.h"

namespace bhe {

class StateChangeLog final : public HealthSink {
 public:
  void onStatus(const std::shared_ptr<const TargetStatus>&) override {}
  void onStateChanged(const TargetStatus& status, HealthState from) override;
  void onRemoved(const TargetKey&) override {}
};

}  // namespace bhe
