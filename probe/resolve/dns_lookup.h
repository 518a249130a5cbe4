// The wire half of name resolution: one query for a name's addresses, answered once. The real one
// is c-ares on the probe loop (ares_lookup.h); tests inject their own.
#pragma once

#include <ares.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace bhe {

struct DnsAnswer {
  int status = ARES_SUCCESS;           // ARES_SUCCESS or the ARES_E* failure
  std::vector<std::string> addresses;  // IPv4 first, then IPv6, as text; empty on failure
  std::chrono::seconds ttl{0};         // the smallest TTL of the answer's records
  // A failure that is the exporter's own: the libuv error (-EMFILE, -ENOBUFS...) of the socket
  // it could not open for the query; 0 otherwise.
  int socket_error = 0;
};

class DnsLookup {
 public:
  using Callback = std::function<void(const DnsAnswer&)>;
  virtual ~DnsLookup() = default;
  // `done` runs exactly once on the loop, unless cancelAll() comes first; possibly before this
  // call returns (c-ares answers a malformed name at once).
  virtual void lookup(const std::string& name, Callback done) = 0;
  // Drops every lookup under way: their callbacks never run.
  virtual void cancelAll() = 0;
  // Which resolvers answer, for messages: "127.0.0.1:5353"; "" for the system resolvers.
  virtual const std::string& serversText() const = 0;
};

}  // namespace bhe
