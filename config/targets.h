// Expands a validated Config into the (pool, settings, server) triples that get probed, each with
// its effective probe parameters (custom probe or the default probe) and Host/SNI precedence
// resolved, so the engine never looks at the config model again. Per-pool facts that are not
// per target (the pool's `labels`) stay on Config::pools.
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

struct TargetKeyHash {
  std::size_t operator()(const TargetKey& key) const;
};

struct ProbeTarget {
  TargetKey key;
  Protocol protocol = Protocol::kHttp;
  int port = 80;
  bool server_is_ip = false;
  // FQDN servers: the address families to resolve and probe (at most
  // Config::exporter.max_addresses_per_server addresses); ignored when server_is_ip.
  AddressFamilies address_families;
  std::string host_header;  // Host header value, with ":port" when the port is not the default
  // The TLS host: the SNI sent (none when empty or an IP address) and the name the certificate
  // must carry. The settings' sni_name when set, else the Host precedence (without the port).
  std::string tls_host;
  // false: tls_host is still sent as SNI, but the certificate's names are not checked.
  bool validate_sni = true;
  // false: no chain or validity verdict (trust path, expiry); the chain is still read.
  bool validate_cert_chain_and_expiry = true;
  bool check_revocation = false;  // OCSP / CRL on the verified path
  std::string path = "/";
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds unhealthy_interval{30000};  // the interval while unhealthy
  std::chrono::milliseconds timeout{30000};
  int unhealthy_threshold = 3;
  int healthy_threshold = 1;
  ProbeMatch match;
  std::string probe_name;  // "" for the default probe
  bool draining = false;   // listed in the pool's `draining`
  // Private-CA mode roots (DER), one vector per backend settings shared by all its targets;
  // unset = well-known CAs.
  std::shared_ptr<const std::vector<std::vector<std::uint8_t>>> trusted_roots;
  // The client certificate presented when the server asks for one, shared with the settings'
  // config model; null = none.
  std::shared_ptr<const ClientIdentity> client_identity;
};

// The Host header for `host` (empty = 127.0.0.1, as Application Gateway's default probe), with
// ":port" when the port is not the protocol's default and IPv6 literals in brackets.
std::string hostHeaderValue(const std::string& host, Protocol protocol, int port);

// Targets in config order: pools, then each pool's settings, then servers.
std::vector<ProbeTarget> expandTargets(const Config& config);

}  // namespace bhe
