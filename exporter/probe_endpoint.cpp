#include "exporter/probe_endpoint.h"

#include "common/host_port.h"
#include "common/request_path.h"
#include "config/config.h"
#include "exporter/metrics.h"

namespace bhe {

std::string renderProbeMetrics(const ProbeTarget& target, const RoundResult& round) {
  auto status = statusOfOneRound(std::make_shared<const ProbeTarget>(target), round);
  std::string text;
  writeTargetFamilies({status}, text, /*schedule_families=*/false);
  return text;
}

namespace {

void appendVerdict(std::string& out, bool success, Reason reason, const std::string& details) {
  if (success) {
    out += "Result: healthy: " + details + "\n";
    return;
  }
  const ReasonInfo& info = describe(reason);
  out += "Result: " + std::string(stateName(info.state)) + " " + std::string(info.name) +
         " (category " + std::string(info.category) + ")\n";
  out += "Details: " + details + "\n";
  out += "Meaning: " + std::string(info.message) + "\n";
  out += "What to check: " + std::string(info.hint) + "\n";
}

}  // namespace

std::string renderProbeDebug(const ProbeTarget& target, const RoundResult& round) {
  std::string out = "Probe of pool=" + target.key.pool + " settings=" + target.key.settings +
                    " server=" + target.key.server + "\n\n";
  for (const auto& line : round.trace) {
    out += line + "\n";
  }
  const bool several = round.addresses.size() > 1;
  for (const auto& a : round.addresses) {
    if (several) {
      out += "\nAddress " + a.address + ":\n";
    }
    for (const auto& line : a.result.trace) {
      out += line + "\n";
    }
  }
  out += "\n";
  auto status = statusOfOneRound(std::make_shared<const ProbeTarget>(target), round);
  appendVerdict(out, status->state == HealthState::kHealthy, status->reason, status->details);
  out += "\nMetrics:\n" + renderProbeMetrics(target, round);
  return out;
}

ArbitraryTarget parseArbitraryTarget(const std::string& url, std::chrono::milliseconds timeout) {
  ProbeTarget t;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    t.protocol = Protocol::kHttp;
    t.port = 80;
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    t.protocol = Protocol::kHttps;
    t.port = 443;
    rest = url.substr(8);
  } else {
    return {std::nullopt, "target must start with http:// or https://"};
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!isValidRequestPath(t.path)) {
    return {std::nullopt,
            "the target's path must not contain spaces or control characters (percent-encode "
            "them twice: the target parameter is decoded once)"};
  }
  auto parsed = parseHostPort(authority);
  if (!parsed.value) {
    return {std::nullopt, "bad target address \"" + authority + "\": " + parsed.error};
  }
  const std::string& host = parsed.value->host;
  if (parsed.value->port) {
    t.port = *parsed.value->port;
  }
  if (!isIpLiteral(host) && !isValidHostName(host)) {
    return {std::nullopt, "bad host in target"};
  }
  t.key = {"arbitrary", std::string(protocolName(t.protocol)), host};
  t.server_is_ip = isIpLiteral(host);
  t.tls_host = host;
  t.host_header = hostHeaderValue(host, t.protocol, t.port);
  t.timeout = timeout;
  t.interval = timeout;
  return {t, ""};
}

}  // namespace bhe
