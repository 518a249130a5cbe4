// The resolve phase of an FQDN server: the addresses to probe this round, from the Resolver
// (cached, shared, or last-known-good when stale), limited to the settings' address families and
// to max_addresses_per_server, within the probe timeout. It reports facts; classify.h words them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/dispatcher.h"
#include "config/config.h"
#include "probe/probe_trace.h"
#include "probe/resolve/resolver.h"

namespace bhe {

struct ResolveOutcome {
  enum class Kind {
    kAddresses,       // something to probe (fresh, or last-known-good when stale)
    kFailed,          // the lookup failed and nothing is known (status)
    kNoneOfFamilies,  // the name has addresses, but none of the configured families
    kTimedOut,        // no answer within the probe timeout
  };
  Kind kind = Kind::kTimedOut;
  std::vector<std::string> addresses;  // answer order, families filtered, at most the cap
  std::size_t omitted = 0;             // addresses beyond max_addresses_per_server
  bool stale = false;                  // last-known-good addresses (the lookup failed)
  bool too_slow = false;               // stale because no answer came within half the timeout
  int status = 0;                      // the lookup's failure (kFailed, and stale answers)
  std::string servers;                 // the resolvers asked, for messages
  int socket_error = 0;                // the exporter could not open a socket (DnsAnswer)
};

class ResolvePhase {
 public:
  using Done = std::function<void(const ResolveOutcome&)>;

  ResolvePhase(Dispatcher& dispatcher, Resolver& resolver, std::string name,
               AddressFamilies families, std::size_t max_addresses,
               std::chrono::milliseconds timeout, ProbeTrace* trace, Done done);
  ResolvePhase(const ResolvePhase&) = delete;
  ResolvePhase& operator=(const ResolvePhase&) = delete;

  // `done` runs once (possibly before this returns: cached answers), unless the phase is
  // destroyed first.
  void start();

 private:
  void onAnswer(const Resolver::Answer& answer);
  void report(ResolveOutcome outcome);

  Resolver& resolver_;
  std::string name_;
  AddressFamilies families_;
  std::size_t max_addresses_;
  std::chrono::milliseconds timeout_;
  ProbeTrace* trace_;
  Done done_;
  std::unique_ptr<Timer> deadline_;
  std::unique_ptr<Resolver::Request> request_;
};

}  // namespace bhe
