// /probe: one round of probes now (every address of an FQDN server), answered with its metrics
// (or, with debug=true, a readable step-by-step log). Rendering and target parsing live here; the
// probing itself runs on the loop.
#pragma once

#include <optional>
#include <string>

#include "config/targets.h"
#include "probe/probe_result.h"
#include "probe/server_round.h"

namespace bhe {

// The metrics of a single round: the verdict as state and reason series, success, phase
// durations, status code, DNS staleness, certificate expiry and the addresses.
std::string renderProbeMetrics(const ProbeTarget& target, const RoundResult& round);

// A readable log of the round (the resolve phase, then each address's trace), the verdict, the
// hint, then the metrics.
std::string renderProbeDebug(const ProbeTarget& target, const RoundResult& round);

// Parses "http[s]://host[:port][/path]" into a target probed with the default probe semantics
// (status 200-399), for --web.enable-arbitrary-probe. Returns the error text on failure.
struct ArbitraryTarget {
  std::optional<ProbeTarget> target;
  std::string error;
};
ArbitraryTarget parseArbitraryTarget(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace bhe
