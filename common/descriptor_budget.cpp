#include "common/descriptor_budget.h"

#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>

namespace bhe {
namespace {

constexpr std::uint64_t kMaxReserve = 64;

std::uint64_t asCount(rlim_t value) {
  return value == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max()
                                : static_cast<std::uint64_t>(value);
}

std::uint64_t readSoftLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return std::numeric_limits<std::uint64_t>::max();  // unknowable: let the kernel decide
  }
  return asCount(limit.rlim_cur);
}

// The soft limit as last read; 0 until the first check.
std::atomic<std::uint64_t> cached_soft_limit{0};
// The limit is also read again when this long has passed, so that one lowered at run time is
// kept to before the kernel's EMFILE starves the web surface.
constexpr std::chrono::milliseconds kRereadAfter{100};
std::atomic<std::int64_t> next_read_ns{0};  // steady_clock

bool belowReserve(int fd, std::uint64_t soft) {
  return static_cast<std::uint64_t>(fd) + descriptorReserve(soft) < soft;
}

}  // namespace

NoFileLimit raiseNoFileLimit() {
  NoFileLimit out;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::string("getrlimit: ") + std::strerror(errno);
    return out;
  }
  out.soft_before = out.soft = asCount(limit.rlim_cur);
  out.hard = asCount(limit.rlim_max);
  rlim_t wanted = limit.rlim_max;
  if (wanted == RLIM_INFINITY) {
    // The kernel refuses a descriptor limit above fs.nr_open, "unlimited" included.
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    std::uint64_t ceiling = 0;
    if (!(nr_open >> ceiling) || ceiling == 0) {
      out.error = "the hard limit is unlimited and /proc/sys/fs/nr_open is unreadable";
      return out;
    }
    wanted = static_cast<rlim_t>(ceiling);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) {
    return out;
  }
  limit.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::string("setrlimit: ") + std::strerror(errno);
    return out;
  }
  out.soft = asCount(wanted);
  cached_soft_limit.store(out.soft, std::memory_order_relaxed);
  return out;
}

std::uint64_t descriptorReserve(std::uint64_t soft_limit) {
  return soft_limit < 8 * kMaxReserve ? soft_limit / 8 : kMaxReserve;
}

bool probeMayKeepDescriptor(int fd) {
  if (fd < 0) {
    return false;
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::uint64_t soft = cached_soft_limit.load(std::memory_order_relaxed);
  if (soft != 0 && now < next_read_ns.load(std::memory_order_relaxed) && belowReserve(fd, soft)) {
    return true;
  }
  soft = readSoftLimit();
  cached_soft_limit.store(soft, std::memory_order_relaxed);
  next_read_ns.store(now + std::chrono::nanoseconds(kRereadAfter).count(),
                     std::memory_order_relaxed);
  return belowReserve(fd, soft);
}

}  // namespace bhe
