#include "config/targets.h"

#include "common/host_port.h"

namespace bhe {

std::string TargetKey::str() const {
  return pool + "/" + settings + "/" + server;
}

bool ProbeTarget::sameProbing(const ProbeTarget& o) const {
  auto rootsEqual = [](const auto& a, const auto& b) {
    if (!a || !b) {
      return !a && !b;
    }
    return *a == *b;
  };
  return key == o.key && protocol == o.protocol && port == o.port && host_header == o.host_header &&
         tls_host == o.tls_host && path == o.path && interval == o.interval &&
         timeout == o.timeout && unhealthy_threshold == o.unhealthy_threshold &&
         healthy_threshold == o.healthy_threshold && match == o.match &&
         rootsEqual(trusted_roots, o.trusted_roots);
}

namespace {

// The name a probe presents (Host header, SNI, certificate check), per CONTRACT §2:
// probe host; else the settings' host (host_name, or the server when picked from the backend
// address), which is also what the default probe uses; else none.
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
  for (const auto& pool : config.pools) {
    for (const auto& settings_name : pool.backend_settings) {
      const BackendSettingsConfig* settings = config.findSettings(settings_name);
      if (settings == nullptr) {
        continue;  // validation rejects dangling references; be defensive anyway
      }
      const ProbeConfig* probe = settings->probe ? config.findProbe(*settings->probe) : nullptr;
      std::shared_ptr<const std::vector<std::vector<std::uint8_t>>> roots;
      if (settings->trusted_root_certificates) {
        auto all = std::make_shared<std::vector<std::vector<std::uint8_t>>>();
        for (const auto& file : *settings->trusted_root_certificates) {
          all->insert(all->end(), file.der.begin(), file.der.end());
        }
        roots = std::move(all);
      }
      for (const auto& server : pool.servers) {
        ProbeTarget t;
        t.key = {pool.name, settings->name, server};
        t.protocol = settings->protocol;
        t.port = settings->port;
        t.server_is_ip = isIpLiteral(server);
        std::string host = effectiveHostName(probe, *settings, server);
        t.host_header = hostHeaderValue(host, t.protocol, t.port);
        t.tls_host = host;
        if (probe != nullptr) {
          t.probe_name = probe->name;
          t.path = probe->path;
          t.interval = probe->interval;
          t.timeout = probe->timeout;
          t.unhealthy_threshold = probe->unhealthy_threshold;
          t.healthy_threshold = probe->healthy_threshold;
          t.match = probe->match;
        }
        t.trusted_roots = roots;
        targets.push_back(std::move(t));
      }
    }
  }
  return targets;
}

}  // namespace bhe
