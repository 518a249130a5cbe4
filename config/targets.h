// Expands a validated Config into the (pool, settings, server) triples that get probed, each with
// its effective probe parameters (custom probe or the default probe) and Host/SNI precedence
// resolved, so the engine never looks at the config model again.
#pragma once

#include <chrono>
#include <compare>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace bhe {

struct TargetKey {
  std::string pool;
  std::string settings;
  std::string server;
  auto operator<=>(const TargetKey&) const = default;
  bool operator==(const TargetKey&) const = default;
  std::string str() const;  // "pool/settings/server" for logs
};

struct ProbeTarget {
  TargetKey key;
  Protocol protocol = Protocol::kHttp;
  int port = 80;
  bool server_is_ip = false;
  std::string host_header;  // Host header value, with ":port" when the port is not the default
  std::string tls_host;     // SNI and the name the certificate must carry; empty = none
  std::string path = "/";
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{30000};
  int unhealthy_threshold = 3;
  int healthy_threshold = 1;
  ProbeMatch match;
  std::string probe_name;  // "" for the default probe
  // Private-CA mode roots (DER); unset = well-known CAs.
  std::shared_ptr<const std::vector<std::vector<std::uint8_t>>> trusted_roots;

  // True when everything that affects how the target is probed is equal; a reload keeps the
  // schedule and state of targets whose key and probing are unchanged.
  bool sameProbing(const ProbeTarget& other) const;
};

// The Host header for `host` (empty = 127.0.0.1, as Application Gateway's default probe), with
// ":port" when the port is not the protocol's default and IPv6 literals in brackets.
std::string hostHeaderValue(const std::string& host, Protocol protocol, int port);

// Targets in config order: pools, then each pool's settings, then servers.
std::vector<ProbeTarget> expandTargets(const Config& config);

}  // namespace bhe
