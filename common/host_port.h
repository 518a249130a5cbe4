// "host:port" as users write it (DNS servers, the web listener, /probe targets) and as the
// exporter prints it (peers in details, Host headers): the one parser and the one formatter, so
// IPv6 brackets and port rules are the same everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bhe {

struct HostPort {
  std::string host;         // without brackets; may be empty only with allow_empty_host
  std::optional<int> port;  // absent when the text has none
};

struct HostPortRules {
  bool port_required = false;     // "10.0.0.1" alone is an error
  bool allow_port_zero = false;   // ":0" = any free port (listeners)
  bool allow_empty_host = false;  // ":9985" = every interface (listeners)
};

struct HostPortParse {
  std::optional<HostPort> value;
  std::string error;  // what is wrong, e.g. "empty port after ':'"; empty on success
};

// Accepts "host", "host:port", "[v6]", "[v6]:port" and a bare IPv6 literal ("::1", which has no
// port: with more than one ':' and no brackets the whole text is the host). Ports are 1-65535
// (0 too with allow_port_zero), decimal digits only. The host itself is not validated here:
// callers decide whether it must be an IP literal or may be a host name.
HostPortParse parseHostPort(std::string_view text, const HostPortRules& rules = {});

// "[::1]" for an IPv6 literal, the host unchanged otherwise (a name or an IPv4 literal).
std::string bracketIpv6(std::string_view host);

// "10.0.0.5:443", "[::1]:443".
std::string joinHostPort(std::string_view host, int port);

}  // namespace bhe
