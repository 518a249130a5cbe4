#include "exporter/backend_health_json.h"

#include "common/time_format.h"

namespace bhe {
namespace {

std::string azureHealth(HealthState s) {
  switch (s) {
    case HealthState::kHealthy:
      return "Healthy";
    case HealthState::kUnhealthy:
      return "Unhealthy";
    case HealthState::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

}  // namespace

nlohmann::json probeResultJson(const ProbeResult& r) {
  nlohmann::json j;
  j["time"] = formatUtcMillis(r.started_unix_ms);
  j["success"] = r.success;
  j["result"] = r.success ? "success" : std::string(describe(r.reason).name);
  j["details"] = r.details;
  j["address"] = r.address;
  j["httpStatus"] = r.http_status;
  j["dnsStale"] = r.dns_stale;
  j["durationSeconds"] = {{"dns", r.seconds.dns},
                          {"connect", r.seconds.connect},
                          {"tls", r.seconds.tls},
                          {"http", r.seconds.http},
                          {"total", r.seconds.total}};
  if (r.tls) {
    nlohmann::json chain = nlohmann::json::array();
    for (const auto& c : r.tls->chain) {
      nlohmann::json entry = {{"position", c.position},
                              {"subject", c.subject},
                              {"issuer", c.issuer},
                              {"notBefore", formatUtc(c.not_before)},
                              {"notAfter", formatUtc(c.not_after)},
                              {"isCA", c.is_ca},
                              {"revocation", nullptr},
                              {"revocationDetails", nullptr}};
      // Null unless revocation was checked and the certificate is on the verified path (the
      // trust anchor itself is never checked).
      for (const auto& view : r.tls->revocation) {
        if (view.position == c.position) {
          entry["revocation"] = view.state;
          entry["revocationDetails"] = view.details;
        }
      }
      chain.push_back(std::move(entry));
    }
    j["tls"] = {{"version", r.tls->version}, {"cipher", r.tls->cipher}, {"chain", chain}};
  }
  if (!r.trace.empty()) {
    j["trace"] = r.trace;
  }
  return j;
}

nlohmann::json addressJson(const AddressStatus& a) {
  nlohmann::json j;
  j["address"] = a.address;
  j["health"] = azureHealth(a.state);
  const bool healthy = a.state == HealthState::kHealthy;
  j["reason"] = healthy ? nlohmann::json(nullptr) : nlohmann::json(describe(a.reason).name);
  j["category"] = healthy ? nlohmann::json(nullptr) : nlohmann::json(describe(a.reason).category);
  j["details"] = a.details;
  j["since"] = formatUtcMillis(a.since_unix_ms);
  j["consecutiveFailures"] = a.consecutive_failures;
  j["consecutiveSuccesses"] = a.consecutive_successes;
  j["probes"] = {{"total", a.probes}, {"failed", a.failed_probes}};
  j["lastProbe"] = a.last ? probeResultJson(*a.last) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json serverHealthJson(const TargetStatus& t) {
  nlohmann::json server;
  server["address"] = t.key().server;
  server["health"] = azureHealth(t.state);
  if (t.state == HealthState::kHealthy) {
    server["healthProbeLog"] =
        t.last && t.last->success
            ? "Success. Received " + std::to_string(t.last->http_status) + " status code"
            : "Success. " + t.details;
    server["reason"] = nullptr;
    server["category"] = nullptr;
    server["hint"] = nullptr;
  } else {
    const ReasonInfo& info = describe(t.reason);
    server["healthProbeLog"] =
        std::string(info.message) + (t.details.empty() ? "" : " " + t.details);
    server["reason"] = info.name;
    server["category"] = info.category;
    server["hint"] = info.hint;
  }
  server["details"] = t.details;
  server["since"] = formatUtcMillis(t.since_unix_ms);
  server["consecutiveFailures"] = t.consecutive_failures;
  server["consecutiveSuccesses"] = t.consecutive_successes;
  server["lastProbe"] = t.last ? probeResultJson(*t.last) : nlohmann::json(nullptr);
  server["draining"] = t.target->draining;
  nlohmann::json addresses = nlohmann::json::array();
  for (const auto& member : t.addresses) {
    if (!member.standIn()) {
      addresses.push_back(addressJson(member));
    }
  }
  server["addresses"] = std::move(addresses);
  server["omittedAddresses"] = t.omitted_addresses;
  return server;
}

nlohmann::json backendHealthJson(const StatusSnapshot& targets) {
  nlohmann::json pools = nlohmann::json::array();
  // Targets arrive in config order: pools, then settings, then servers.
  for (const auto& status : targets) {
    const TargetStatus& t = *status;
    const ProbeTarget& target = *t.target;
    if (pools.empty() || pools.back()["backendAddressPool"]["name"] != target.key.pool) {
      pools.push_back({{"backendAddressPool", {{"name", target.key.pool}}},
                       {"backendHttpSettingsCollection", nlohmann::json::array()}});
    }
    auto& collection = pools.back()["backendHttpSettingsCollection"];
    if (collection.empty() ||
        collection.back()["backendHttpSettings"]["name"] != target.key.settings) {
      collection.push_back(
          {{"backendHttpSettings",
            {{"name", target.key.settings},
             {"protocol", target.protocol == Protocol::kHttps ? "Https" : "Http"},
             {"port", target.port},
             {"probe", target.probe_name.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(target.probe_name)},
             {"path", target.path}}},
           {"servers", nlohmann::json::array()}});
    }
    collection.back()["servers"].push_back(serverHealthJson(t));
  }
  return {{"backendAddressPools", pools}};
}

}  // namespace bhe
