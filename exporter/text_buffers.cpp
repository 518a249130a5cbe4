#include "exporter/text_buffers.h"

#include <utility>

namespace bhe {

std::string TextBuffers::take() {
  std::lock_guard lock(mutex_);
  if (!kept_) {
    return {};
  }
  std::string text = std::move(*kept_);
  kept_.reset();
  text.clear();
  return text;
}

void TextBuffers::give(std::string&& text) {
  const std::size_t capacity = text.capacity();
  if (capacity < kMinKept || capacity > 2 * text.size() + kMinKept) {
    return;  // freed by the caller
  }
  std::optional<std::string> replaced;  // declared before the lock: freed after unlocking
  std::lock_guard lock(mutex_);
  if (kept_ && kept_->capacity() >= capacity) {
    return;  // the larger one stays
  }
  replaced = std::exchange(kept_, std::move(text));
}

std::size_t TextBuffers::keptCapacity() const {
  std::lock_guard lock(mutex_);
  return kept_ ? kept_->capacity() : 0;
}

}  // namespace bhe
