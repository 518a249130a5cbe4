// One round of probes of one server: for an FQDN server the resolve phase, then a probe of every
// address of the answer (each its own member, through the runner); for an IP-literal server the
// one probe of that address. Used by the target's session on its schedule and by on-demand
// probes (/probe, `probe --once`).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/dispatcher.h"
#include "probe/probe_runner.h"
#include "probe/resolve/resolve_phase.h"

namespace bhe {

struct RoundResult {
  struct Address {
    std::string address;
    ProbeResult result;
  };
  // The name gave nothing to probe: this DNS failure is the round's only result.
  std::optional<ProbeResult> unresolved;
  std::vector<Address> addresses;  // one per probed address, in answer order
  std::size_t omitted = 0;         // addresses beyond max_addresses_per_server
  std::vector<std::string> trace;  // the resolve phase's lines (traced rounds)
};

class ServerRound {
 public:
  using Done = std::function<void(RoundResult)>;

  struct Options {
    bool trace = false;
    std::optional<MonoTime> due;  // when the round was meant to start (schedule lag)
    std::size_t max_addresses = 16;
    // The TLS memory of each address of a scheduled target (empty for on-demand rounds).
    std::function<std::shared_ptr<TlsTargetMemory>(const std::string& address)> tls_memory;
  };

  ServerRound(Dispatcher& dispatcher, Resolver& resolver, ProbeRunner& runner,
              std::shared_ptr<const ProbeTarget> target, Options options, Done done);
  // Cancels whatever still runs; `done` never runs then.
  ~ServerRound();
  ServerRound(const ServerRound&) = delete;
  ServerRound& operator=(const ServerRound&) = delete;

  // `done` runs once, on a later loop turn.
  void start();

 private:
  void onResolved(const ResolveOutcome& outcome);
  void probe(const std::vector<std::string>& addresses, std::chrono::nanoseconds resolved_in,
             bool stale, std::optional<MonoTime> due);
  void onProbed(std::size_t index, ProbeResult result);
  void finish();

  Dispatcher& dispatcher_;
  Resolver& resolver_;
  ProbeRunner& runner_;
  std::shared_ptr<const ProbeTarget> target_;
  Options options_;
  Done done_;
  MonoTime started_{0};
  std::unique_ptr<ProbeTrace> trace_;
  std::unique_ptr<ResolvePhase> resolve_;
  RoundResult result_;
  std::vector<ProbeRunner::Ticket> tickets_;  // 0 once that address reported
  std::size_t pending_ = 0;
  bool finished_ = false;
  // The hand-over of a round destroyed before it ran finds this expired.
  std::shared_ptr<ServerRound*> self_ = std::make_shared<ServerRound*>(this);
};

}  // namespace bhe
