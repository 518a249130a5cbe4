#include "common/ip_address.h"

#include <arpa/inet.h>

#include <string>

namespace bhe {

std::optional<std::vector<std::uint8_t>> ipAddressBytes(std::string_view text) {
  const std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return std::vector<std::uint8_t>(buf, buf + 4);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return std::vector<std::uint8_t>(buf, buf + 16);
  }
  return std::nullopt;
}

}  // namespace bhe
