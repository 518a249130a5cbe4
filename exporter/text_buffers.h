// Recycled buffers for large response texts. A /metrics exposition of 10,000 servers is ~15 MiB;
// rendered into a fresh buffer, every page of it is mapped and zeroed on first touch (~4,000
// page faults per scrape), which cost about a third as much as writing the text itself. The
// web listener gives a written body back, the next scrape renders into it.
//
// One buffer is kept, so the memory between scrapes holds one exposition; the peak is what a
// scrape needs anyway. A buffer far larger than the text it last held (the servers were fewer
// after a reload) is freed instead of kept.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

namespace bhe {

class TextBuffers {
 public:
  // Below this a buffer is not worth keeping: small texts come from malloc's free lists.
  static constexpr std::size_t kMinKept = 1 << 20;

  // An empty string: the kept buffer (its capacity) if there is one, else a new one.
  std::string take();
  // Keeps `text`'s buffer for the next take() when none is kept and it is worth it. Any thread.
  void give(std::string&& text);

  std::size_t keptCapacity() const;  // 0: none kept

 private:
  mutable std::mutex mutex_;
  std::optional<std::string> kept_;
};

}  // namespace bhe
