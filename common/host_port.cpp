#include "common/host_port.h"

#include <algorithm>

namespace bhe {
namespace {

bool allDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

HostPortParse parseHostPort(std::string_view text, const HostPortRules& rules) {
  auto failure = [](std::string why) { return HostPortParse{std::nullopt, std::move(why)}; };
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return failure("missing ']' after the IPv6 address");
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return failure("expected ':PORT' after ']'");
      }
      port_text = rest.substr(1);
      has_port = true;
    }
    if (out.host.empty()) {
      return failure("empty IPv6 address in brackets");
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    has_port = true;
  } else {
    out.host = std::string(text);  // a name, an IPv4 literal or a bare IPv6 literal
  }
  if (out.host.empty() && !rules.allow_empty_host) {
    return failure("missing host");
  }
  if (has_port) {
    if (port_text.empty()) {
      return failure("empty port after ':'");
    }
    if (!allDigits(port_text) || port_text.size() > 5) {
      return failure("port \"" + std::string(port_text) + "\" is not a number");
    }
    const int port = std::stoi(std::string(port_text));
    if (port > 65535 || (port == 0 && !rules.allow_port_zero)) {
      return failure("port " + std::to_string(port) + " is outside " +
                     (rules.allow_port_zero ? "0-65535" : "1-65535"));
    }
    out.port = port;
  } else if (rules.port_required) {
    return failure("missing ':PORT'");
  }
  return {std::move(out), ""};
}

std::string bracketIpv6(std::string_view host) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]";
  }
  return std::string(host);
}

std::string joinHostPort(std::string_view host, int port) {
  return bracketIpv6(host) + ":" + std::to_string(port);
}

}  // namespace bhe
