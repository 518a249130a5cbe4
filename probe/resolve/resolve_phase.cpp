#include "probe/resolve/resolve_phase.h"

#include <set>
#include <string_view>

#include "probe/classify/classify.h"

namespace bhe {
namespace {

bool isIpv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

std::string joined(const std::vector<std::string>& addresses) {
  std::string all;
  for (const auto& a : addresses) {
    all += (all.empty() ? "" : ", ") + a;
  }
  return all;
}

}  // namespace

ResolvePhase::ResolvePhase(Dispatcher& dispatcher, Resolver& resolver, std::string name,
                           AddressFamilies families, std::size_t max_addresses,
                           std::chrono::milliseconds timeout, ProbeTrace* trace, Done done)
    : resolver_(resolver),
      name_(std::move(name)),
      families_(families),
      max_addresses_(max_addresses),
      timeout_(timeout),
      trace_(trace),
      done_(std::move(done)),
      deadline_(dispatcher.createTimer([this] {
        report(ResolveOutcome{
            ResolveOutcome::Kind::kTimedOut, {}, 0, false, false, 0, resolver_.serversText()});
      })) {}

void ResolvePhase::start() {
  note(trace_, [&] {
    const std::string& via = resolver_.serversText();
    return "resolving " + name_ + " via " + (via.empty() ? std::string("system resolvers") : via);
  });
  deadline_->arm(timeout_);
  // With a last-known-good address, a resolver that does not answer gets half the timeout,
  // then probing goes on at that address; without one, the whole timeout.
  request_ = resolver_.resolve(name_, timeout_ / 2,
                               [this](const Resolver::Answer& answer) { onAnswer(answer); });
}

void ResolvePhase::onAnswer(const Resolver::Answer& answer) {
  ResolveOutcome outcome;
  outcome.servers = answer.servers;
  outcome.status = answer.status;
  outcome.socket_error = answer.socket_error;
  if (!answer.ok()) {
    outcome.kind = ResolveOutcome::Kind::kFailed;
    note(trace_, [&] {
      return classifyDnsFailure(answer.status, name_, answer.servers, answer.socket_error).details;
    });
    report(std::move(outcome));
    return;
  }
  // An answer may repeat a record (a misconfigured zone, a hostile server): each address is one
  // member, however often it is listed.
  std::set<std::string_view> seen;
  for (const auto& address : answer.addresses) {
    if (!seen.insert(address).second) {
      continue;
    }
    if (isIpv6(address) ? families_.ipv6 : families_.ipv4) {
      if (outcome.addresses.size() < max_addresses_) {
        outcome.addresses.push_back(address);
      } else {
        ++outcome.omitted;
      }
    }
  }
  outcome.stale = answer.stale;
  outcome.too_slow = answer.too_slow;
  outcome.kind = outcome.addresses.empty() ? ResolveOutcome::Kind::kNoneOfFamilies
                                           : ResolveOutcome::Kind::kAddresses;
  note(trace_, [&] {
    if (!answer.stale) {
      return "resolved " + name_ + " -> " + joined(answer.addresses);
    }
    const std::string why =
        answer.too_slow
            ? std::string("no DNS answer within half the probe timeout")
            : classifyDnsFailure(answer.status, name_, answer.servers, answer.socket_error).details;
    return why + "; probing the last-known-good address" +
           (answer.addresses.size() == 1 ? " " : "es ") + joined(answer.addresses);
  });
  if (outcome.omitted > 0) {
    note(trace_, [&] {
      return std::to_string(outcome.omitted) +
             " more addresses not probed (max_addresses_per_server = " +
             std::to_string(max_addresses_) + ")";
    });
  }
  report(std::move(outcome));
}

void ResolvePhase::report(ResolveOutcome outcome) {
  deadline_->disarm();
  request_.reset();  // a lookup still under way answers nobody
  Done done = std::move(done_);
  if (done) {
    done(outcome);
  }
}

}  // namespace bhe
