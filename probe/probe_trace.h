// The step-by-step log of one probe, for /probe?debug=true. Only traced probes have one: every
// line is produced by a callable that runs only when a trace exists, so an untraced probe builds
// no trace text at all.
//
//   note(trace_, [&] { return "connecting to " + peer_; });
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/dispatcher.h"

namespace bhe {

class ProbeTrace {
 public:
  ProbeTrace(const Dispatcher& dispatcher, MonoTime started)
      : dispatcher_(dispatcher), started_(started) {}

  void add(const std::string& line) {
    const double ms =
        std::chrono::duration<double, std::milli>(dispatcher_.now() - started_).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%8.3fms ", ms);
    lines_.push_back(stamp + line);
  }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  const Dispatcher& dispatcher_;
  MonoTime started_;
  std::vector<std::string> lines_;
};

template <typename MakeLine>
void note(ProbeTrace* trace, MakeLine&& make_line) {
  if (trace != nullptr) {
    trace->add(make_line());
  }
}

}  // namespace bhe
