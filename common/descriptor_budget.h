// File descriptors are the exporter's scarcest local resource: every probe in flight holds a
// socket, and so does every connection to the web surface. Two rules keep running out of them
// from silencing /metrics: the soft RLIMIT_NOFILE is raised to the hard limit at start, and the
// probe loop leaves the top of the limit (the reserve) to the web surface and to reloads, which
// read files. A probe that would eat into the reserve fails as if the kernel had said EMFILE.
#pragma once

#include <cstdint>
#include <string>

namespace bhe {

struct NoFileLimit {
  std::uint64_t soft_before = 0;  // the soft limit the process was started with
  std::uint64_t soft = 0;         // the soft limit now
  std::uint64_t hard = 0;
  std::string error;  // why the soft limit could not be raised; empty when it was (or already was)
};

// Raises the soft limit to the hard limit (to fs.nr_open when the hard limit is unlimited).
// Harmless for this process: nothing in it uses select(), which cannot watch descriptors above
// 1024.
NoFileLimit raiseNoFileLimit();

// The descriptors at the top of a soft limit that the probe loop leaves alone: 64, or an eighth
// of limits below 512 (so that a tiny limit still leaves the probes most of it).
std::uint64_t descriptorReserve(std::uint64_t soft_limit);

// Whether the probe loop may keep `fd`, a descriptor it has just opened. The kernel hands out
// the lowest free number, so every descriptor below `fd` is open: a number at or above
// limit - reserve means the reserve is being eaten into. The limit is read again before saying
// no (it may have been raised at run time, `prlimit --pid`) and at most 100 ms after the last
// read (it may have been lowered). Any thread.
bool probeMayKeepDescriptor(int fd);

}  // namespace bhe
