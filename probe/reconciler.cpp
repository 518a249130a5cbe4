#include "probe/reconciler.h"

#include <algorithm>

namespace bhe {

void Reconciler::apply(const std::vector<ProbeTarget>& targets,
                       std::size_t max_addresses_per_server) {
  context_.max_addresses_per_server = max_addresses_per_server;
  double rounds_per_second = 0;
  for (const auto& t : targets) {
    rounds_per_second += 1.0 / std::max(std::chrono::duration<double>(t.interval).count(), 1e-3);
  }
  context_.phase_step = TargetSession::phaseStepFor(rounds_per_second);
  std::map<TargetKey, std::unique_ptr<TargetSession>> next;
  std::size_t order = 0;
  for (const auto& t : targets) {
    if (next.contains(t.key)) {
      continue;
    }
    auto target = std::make_shared<const ProbeTarget>(t);
    auto kept = sessions_.extract(t.key);
    if (kept) {
      kept.mapped()->update(std::move(target), order++);
      next.insert(std::move(kept));
    } else {
      next.emplace(t.key, std::make_unique<TargetSession>(context_, std::move(target), order++));
    }
  }
  std::swap(sessions_, next);
  // What is left in `next` was not kept: stop those sessions, then say they are gone.
  for (auto& [key, session] : next) {
    session.reset();
    context_.sink.onRemoved(key);
  }
}

void Reconciler::clear() {
  auto gone = std::move(sessions_);
  sessions_.clear();
  gone.clear();
}

std::shared_ptr<const ProbeTarget> Reconciler::find(const TargetKey& key) const {
  const TargetSession* s = session(key);
  return s != nullptr ? s->target() : nullptr;
}

const TargetSession* Reconciler::session(const TargetKey& key) const {
  auto it = sessions_.find(key);
  return it == sessions_.end() ? nullptr : it->second.get();
}

}  // namespace bhe
