#include "probe/health/target_status.h"

namespace bhe {

std::string statusDetails(HealthState state, const ProbeResult& result, int consecutive_failures,
                          int unhealthy_threshold, const std::string& previous_details) {
  if (result.success) {
    return state == HealthState::kHealthy ? result.details : previous_details;
  }
  if (state == HealthState::kHealthy) {
    return "Last probe failed (" + std::to_string(consecutive_failures) + " of " +
           std::to_string(unhealthy_threshold) +
           " failures before unhealthy): " + std::string(describe(result.reason).name) + ": " +
           result.details;
  }
  return result.details;
}

}  // namespace bhe
