// Name resolution as probes see it, over a DnsLookup (the wire). Everything about *which* answer
// a probe gets lives here:
//  - answers are cached for their TTL, at most kMaxCacheTtl, so a changed record is seen within a
//    minute even behind long TTLs;
//  - concurrent lookups of one name share one query (10,000 FQDN servers are not 10,000 queries
//    per interval);
//  - the last addresses a name resolved to are kept ("last-known-good") across failed lookups,
//    config reloads and changes of the DNS servers: when a lookup fails, or a waiter with a
//    fallback delay hears nothing within it, the waiter is served those addresses, marked stale.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/dispatcher.h"
#include "probe/resolve/dns_lookup.h"

namespace bhe {

class Resolver {
 public:
  static constexpr std::chrono::seconds kMaxCacheTtl{60};

  struct Answer {
    // ARES_SUCCESS for a fresh answer; otherwise the failure that was seen (ARES_ETIMEOUT when
    // the fallback delay ran out first). A stale answer carries its lookup's failure.
    int status = ARES_SUCCESS;
    std::vector<std::string> addresses;  // what to probe: fresh, or last-known-good when stale
    bool stale = false;
    bool too_slow = false;  // stale because no answer came within the fallback delay
    std::string servers;    // serversText() of the lookup, for messages
    int socket_error = 0;   // DnsAnswer::socket_error of a failed lookup
    bool ok() const { return !addresses.empty(); }
  };
  using Callback = std::function<void(const Answer&)>;

  // One waiter for an answer. Destroying it before the answer withdraws it: the callback never
  // runs.
  class Request {
   public:
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

   private:
    friend class Resolver;
    Request(Resolver& resolver, std::string name, Callback callback);
    void answer(const Answer& answer);

    Resolver& resolver_;
    std::string name_;
    Callback callback_;
    std::unique_ptr<Timer> fallback_;
    bool waiting_ = false;
  };

  // `lookup` may be null until setLookup(): lookups then fail with ARES_ENOTINITIALIZED.
  Resolver(Dispatcher& dispatcher, std::unique_ptr<DnsLookup> lookup);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // New DNS servers: cached answers (theirs) are dropped, last-known-good addresses are kept,
  // and lookups under way are sent again to the new servers.
  void setLookup(std::unique_ptr<DnsLookup> lookup);
  const std::string& serversText() const;

  // The callback runs exactly once unless the Request is destroyed first; for a cached answer it
  // runs before resolve() returns. With a last-known-good address and a non-zero
  // `stale_fallback_after`, a lookup that has not answered by then is not waited for.
  std::unique_ptr<Request> resolve(const std::string& name,
                                   std::chrono::milliseconds stale_fallback_after,
                                   Callback callback);

  // Forgets last-known-good addresses of names not in `names` (they left the config).
  void retainLastKnown(const std::set<std::string>& names);
  bool hasLastKnown(const std::string& name) const { return last_known_.contains(name); }

 private:
  struct CacheEntry {
    std::vector<std::string> addresses;
    MonoTime expiry;
  };

  void sendLookup(const std::string& name);
  void onLookupDone(const std::string& name, const DnsAnswer& answer);
  void withdraw(Request* request);

  Dispatcher& dispatcher_;
  std::unique_ptr<DnsLookup> lookup_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, std::vector<std::string>> last_known_;
  std::unordered_map<std::string, std::list<Request*>> waiting_;  // queries in flight, by name
};

}  // namespace bhe
