// The TOML configuration of CONTRACT §2 (pools, backend settings, probes), every default, and its
// validation. Loading never stops at the first problem: every error is reported as
// FILE:LINE:COL: message.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

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
  std::chrono::milliseconds timeout{30000};
  int unhealthy_threshold = 3;
  int healthy_threshold = 1;
  ProbeMatch match;
};

struct TrustedRootCertificate {
  std::string path;                            // as resolved against the config file's directory
  std::vector<std::vector<std::uint8_t>> der;  // the certificates the file holds
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
};

struct BackendPoolConfig {
  std::string name;
  std::vector<std::string> servers;
  std::vector<std::string> backend_settings;
};

struct ExporterConfig {
  std::vector<std::string> dns_servers;  // "host:port" or "host"; empty = /etc/resolv.conf
  std::size_t max_response_bytes = 65536;
  int max_concurrent_probes = 1000;
  std::string well_known_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";
};

struct Config {
  std::string file;  // the file it was loaded from
  ExporterConfig exporter;
  std::vector<BackendPoolConfig> pools;
  std::vector<BackendSettingsConfig> settings;
  std::vector<ProbeConfig> probes;

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

// Host name syntax (RFC 1123 labels) shared by validation and probing; IP literals: ip_address.h.
bool isValidHostName(std::string_view text);

}  // namespace bhe
