#include "probe/publish/state_change_log.h"

#include "common/log.h"

namespace bhe {

void StateChangeLog::onStateChanged(const TargetStatus& s, HealthState from) {
  const TargetKey& key = s.key();
  log::info("backend state changed",
            {{"pool", key.pool},
             {"settings", key.settings},
             {"server", key.server},
             {"old_state", stateName(from)},
             {"new_state", stateName(s.state)},
             {"reason",
              s.state == HealthState::kHealthy ? std::string_view("") : describe(s.reason).name},
             {"details", s.details}});
}

}  // namespace bhe
