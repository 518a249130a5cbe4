// The TOML configuration (pools, backend settings, probes, exporter), every default, and its
// validation. Loading never stops at the first problem: every error is reported as
// FILE:LINE:COL: message. README.md, "Configuration", is the user's reference of all of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "pki/client_identity.h"

namespace bhe {

struct SourcePosition {
  int line = 0;
  int column = 0;
};

struct ConfigError {
  std::string file;
  SourcePosition position;
  std::string message;
  std::string str() const;  // "FILE:LINE:COL: message"
};

struct StatusRange {
  int first = 200;
  int last = 399;
  bool contains(int code) const { return code >= first && code <= last; }
  bool operator==(const StatusRange&) const = default;
};

enum class Protocol { kHttp, kHttps };
std::string_view protocolName(Protocol p);

struct ProbeMatch {
  std::vector<StatusRange> status_codes{StatusRange{200, 399}};
  std::optional<std::string> body;
  bool operator==(const ProbeMatch&) const = default;
};

struct ProbeConfig {
  std::string name;
  std::optional<std::string> host;
  bool pick_host_name_from_backend_settings = false;
  std::string path = "/";
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds unhealthy_interval{30000};  // `interval` unless set
  std::chrono::milliseconds timeout{30000};
  int unhealthy_threshold = 3;
  int healthy_threshold = 1;
  ProbeMatch match;
};

struct TrustedRootCertificate {
  std::string path;                            // as resolved against the config file's directory
  std::vector<std::vector<std::uint8_t>> der;  // the certificates the file holds
};

// Which addresses of an FQDN server are probed (`address_families`); never both false.
// IP-literal servers are probed at their address whatever this says.
struct AddressFamilies {
  bool ipv4 = true;
  bool ipv6 = true;
  bool operator==(const AddressFamilies&) const = default;
};

struct BackendSettingsConfig {
  std::string name;
  Protocol protocol = Protocol::kHttp;
  int port = 80;
  std::optional<std::string> host_name;
  bool pick_host_name_from_backend_address = false;
  std::optional<std::string> probe;  // absent = the default probe
  // Present (even empty) = private-CA mode with exactly these roots; absent = well-known CAs.
  std::optional<std::vector<TrustedRootCertificate>> trusted_root_certificates;
  AddressFamilies address_families;
  // The TLS options below are accepted only with protocol "https".
  bool check_revocation = false;
  bool validate_cert_chain_and_expiry = true;
  bool validate_sni = true;
  std::optional<std::string> sni_name;  // a host name, never an IP address
  // Mutual TLS: both paths (as resolved against the config file's directory) or neither; the
  // identity is loaded from them at load time and shared by every target of these settings.
  std::optional<std::string> client_certificate;
  std::optional<std::string> client_key;
  std::shared_ptr<const ClientIdentity> client_identity;
};

struct PoolLabel {
  std::string name;
  std::string value;
  bool operator==(const PoolLabel&) const = default;
};

struct BackendPoolConfig {
  std::string name;
  std::vector<std::string> servers;
  std::vector<std::string> backend_settings;
  std::vector<PoolLabel> labels;      // sorted by name; names are valid and not ours
  std::vector<std::string> draining;  // servers of this pool, exactly as written in `servers`

  bool isDraining(std::string_view server) const;
};

struct ExporterConfig {
  std::vector<std::string> dns_servers;  // "host:port" or "host"; empty = /etc/resolv.conf
  std::size_t max_response_bytes = 65536;
  int max_concurrent_probes = 1000;
  std::string well_known_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";
  int max_addresses_per_server = 16;  // resolved addresses of one FQDN server that are probed
};

struct Config {
  std::string file;  // the file it was loaded from
  ExporterConfig exporter;
  std::vector<BackendPoolConfig> pools;
  std::vector<BackendSettingsConfig> settings;
  std::vector<ProbeConfig> probes;

  const BackendPoolConfig* findPool(std::string_view name) const;
  const BackendSettingsConfig* findSettings(std::string_view name) const;
  const ProbeConfig* findProbe(std::string_view name) const;
};

struct ConfigLoad {
  std::optional<Config> config;     // set only when there are no errors
  std::vector<ConfigError> errors;  // in file order
};

ConfigLoad loadConfigFile(const std::string& path);
// `file` names the source in messages and anchors relative certificate paths.
ConfigLoad parseConfig(std::string_view toml_text, const std::string& file);

// Host name syntax shared by validation and probing; IP literals: ip_address.h. RFC 1123 labels
// (letters, digits, '-', and '_' for service names), at most 253 characters, an optional final
// dot; the last label must not be all digits, so "256.1.1.1" or "1.2.3" (no IPv4 address) is no
// host name either (RFC 3696 §2: top-level domains are not all-numeric).
bool isValidHostName(std::string_view text);

// Empty when `text` may become a metric label value, else what is wrong with it: "invalid UTF-8
// at byte 3" or "control character U+0000" (C0, DEL and C1 controls: they would garble the
// exposition text, logs and the status page).
std::string labelTextProblem(std::string_view text);

}  // namespace bhe
