#include "config/targets.h"

#include <map>

#include "common/host_port.h"

namespace bhe {

std::size_t TargetKeyHash::operator()(const TargetKey& key) const {
  const std::hash<std::string> hash;
  std::size_t h = hash(key.pool);
  h = h * 31 + hash(key.settings);
  return h * 31 + hash(key.server);
}

std::string TargetKey::str() const {
  return pool + "/" + settings + "/" + server;
}

namespace {

// The name a probe presents in the Host header (and, without sni_name, as SNI and certificate
// name): the probe's host; else the settings' host (host_name, or the server when picked from
// the backend address), which is also what the default probe uses and what
// pick_host_name_from_backend_settings asks for; else none. Validation refuses a probe that sets
// both host and pick_host_name_from_backend_settings, and one that picks from settings without
// a host, so these three cases are all there is.
std::string effectiveHostName(const ProbeConfig* probe, const BackendSettingsConfig& settings,
                              const std::string& server) {
  if (probe != nullptr && probe->host) {
    return *probe->host;
  }
  if (settings.host_name) {
    return *settings.host_name;
  }
  if (settings.pick_host_name_from_backend_address) {
    return server;
  }
  return "";
}

using SharedRoots = std::shared_ptr<const std::vector<std::vector<std::uint8_t>>>;

SharedRoots rootsOf(const BackendSettingsConfig& settings) {
  if (!settings.trusted_root_certificates) {
    return nullptr;
  }
  auto all = std::make_shared<std::vector<std::vector<std::uint8_t>>>();
  for (const auto& file : *settings.trusted_root_certificates) {
    all->insert(all->end(), file.der.begin(), file.der.end());
  }
  return all;
}

}  // namespace

std::string hostHeaderValue(const std::string& host, Protocol protocol, int port) {
  // Application Gateway's default probe asks for <protocol>://127.0.0.1:<port>/.
  std::string name = bracketIpv6(host.empty() ? "127.0.0.1" : host);
  int default_port = protocol == Protocol::kHttps ? 443 : 80;
  if (port != default_port) {
    name += ":" + std::to_string(port);
  }
  return name;
}

std::vector<ProbeTarget> expandTargets(const Config& config) {
  std::vector<ProbeTarget> targets;
  std::map<std::string, SharedRoots, std::less<>> roots_by_settings;
  for (const auto& pool : config.pools) {
    for (const auto& settings_name : pool.backend_settings) {
      const BackendSettingsConfig* settings = config.findSettings(settings_name);
      if (settings == nullptr) {
        continue;  // validation rejects dangling references; be defensive anyway
      }
      const ProbeConfig* probe = settings->probe ? config.findProbe(*settings->probe) : nullptr;
      auto [roots, inserted] = roots_by_settings.try_emplace(settings->name);
      if (inserted) {
        roots->second = rootsOf(*settings);
      }
      for (const auto& server : pool.servers) {
        ProbeTarget t;
        t.key = {pool.name, settings->name, server};
        t.protocol = settings->protocol;
        t.port = settings->port;
        t.server_is_ip = isIpLiteral(server);
        t.address_families = settings->address_families;
        std::string host = effectiveHostName(probe, *settings, server);
        t.host_header = hostHeaderValue(host, t.protocol, t.port);
        t.tls_host = settings->sni_name.value_or(host);
        t.validate_sni = settings->validate_sni;
        t.validate_cert_chain_and_expiry = settings->validate_cert_chain_and_expiry;
        t.check_revocation = settings->check_revocation;
        if (probe != nullptr) {
          t.probe_name = probe->name;
          t.path = probe->path;
          t.interval = probe->interval;
          t.unhealthy_interval = probe->unhealthy_interval;
          t.timeout = probe->timeout;
          t.unhealthy_threshold = probe->unhealthy_threshold;
          t.healthy_threshold = probe->healthy_threshold;
          t.match = probe->match;
        }
        t.draining = pool.isDraining(server);
        t.trusted_roots = roots->second;
        t.client_identity = settings->client_identity;
        targets.push_back(std::move(t));
      }
    }
  }
  return targets;
}

}  // namespace bhe
