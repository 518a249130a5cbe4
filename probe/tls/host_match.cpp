#include "probe/tls/host_match.h"

#include "common/ip_address.h"

#include <algorithm>
#include <optional>

namespace bhe {
namespace {

std::string normalizeDnsName(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// A host may carry an IPv6 literal in brackets, as in a URL authority.
std::optional<Der> ipBytes(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return ipAddressBytes(host);
}

// `pattern` and `host` are normalized. See the header for the wildcard rules.
bool normalizedDnsNameMatches(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || host.empty()) {
    return false;
  }
  if (pattern.find('*') == std::string_view::npos) {
    return pattern == host;
  }
  if (!pattern.starts_with("*.")) {
    return false;
  }
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  const std::string_view base = suffix.substr(1);     // "example.com"
  if (base.find('*') != std::string_view::npos || base.find('.') == std::string_view::npos ||
      base.find("..") != std::string_view::npos || base.back() == '.') {
    return false;
  }
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) {
    return false;
  }
  const std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

}  // namespace

bool isIpHost(std::string_view host) {
  return ipBytes(host).has_value();
}

bool dnsNameMatches(std::string_view pattern, std::string_view host) {
  return normalizedDnsNameMatches(normalizeDnsName(pattern), normalizeDnsName(host));
}

bool certificateMatchesHost(const Certificate& cert, std::string_view host) {
  if (auto ip = ipBytes(host)) {
    return std::any_of(cert.ipAddresses().begin(), cert.ipAddresses().end(),
                       [&](const Der& san) { return san == *ip; });
  }
  const std::string wanted = normalizeDnsName(host);
  const auto& identities = cert.dnsNames().empty() ? cert.commonNames() : cert.dnsNames();
  return std::any_of(identities.begin(), identities.end(), [&](const std::string& name) {
    return normalizedDnsNameMatches(normalizeDnsName(name), wanted);
  });
}

std::string describeCertificateNames(const Certificate& cert) {
  std::string out;
  auto add = [&](std::string_view prefix, std::string_view value) {
    out += out.empty() ? "SAN " : ", ";
    out += prefix;
    out += value;
  };
  for (const auto& name : cert.dnsNames()) {
    add("DNS:", name);
  }
  for (const auto& ip : cert.ipAddresses()) {
    add("IP:", formatIpAddress(ip));
  }
  if (cert.dnsNames().empty()) {
    out += out.empty() ? "no DNS SAN" : " (no DNS SAN)";
    if (cert.commonNames().empty()) {
      out += ", no CN";
    }
    for (const auto& cn : cert.commonNames()) {
      out += ", CN=" + cn;
    }
  }
  return out;
}

}  // namespace bhe
