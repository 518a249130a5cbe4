// IP address literals, shared by config validation, probing and certificate name matching.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bhe {

// The network-order bytes of an IPv4 (4 bytes) or IPv6 (16 bytes) literal as written, without
// brackets; nothing for anything else.
std::optional<std::vector<std::uint8_t>> ipAddressBytes(std::string_view text);

inline bool isIpLiteral(std::string_view text) {
  return ipAddressBytes(text).has_value();
}

}  // namespace bhe
