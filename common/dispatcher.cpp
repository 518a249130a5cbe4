#include "common/dispatcher.h"

namespace bhe {
namespace {

// Freed entries at the list's front are dropped once they are this many and at least half of it:
// under steady load the list may never empty in one turn.
constexpr std::size_t kCompactAfter = 64;

}  // namespace

Dispatcher::~Dispatcher() {
  destroying_ = true;
  freeAllDeferred();
}

void Dispatcher::freeOldestDeferred() {
  if (deferred_head_ >= deferred_.size()) {
    return;
  }
  // Out of the list before its destructor runs, which may defer further objects.
  Deferred oldest = std::move(deferred_[deferred_head_++]);
  if (deferred_head_ == deferred_.size()) {
    deferred_.clear();  // keeps the capacity for the next turn's objects
    deferred_head_ = 0;
  } else if (deferred_head_ >= kCompactAfter && 2 * deferred_head_ >= deferred_.size()) {
    deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<long>(deferred_head_));
    deferred_head_ = 0;
  }
}

void Dispatcher::freeAllDeferred() {
  // Their destructors may defer further objects: free in rounds until none waits.
  while (deferred_head_ < deferred_.size()) {
    std::vector<Deferred> waiting = std::move(deferred_);
    deferred_.clear();
    deferred_head_ = 0;
  }
}

}  // namespace bhe
