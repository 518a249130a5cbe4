#include "pki/der.h"

namespace bhe {

std::optional<DerTlv> readDerTlv(std::span<const std::uint8_t> in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) {
    return std::nullopt;
  }
  std::size_t header = 2;
  std::size_t length = in[1];
  if (length & 0x80) {
    const std::size_t count = length & 0x7f;
    if (count == 0 || count > 4 || in.size() < 2 + count) {
      return std::nullopt;
    }
    length = 0;
    for (std::size_t i = 0; i < count; ++i) {
      length = (length << 8) | in[2 + i];
    }
    header += count;
  }
  if (length > in.size() - header) {
    return std::nullopt;
  }
  return DerTlv{in[0], in.subspan(header, length), header + length};
}

}  // namespace bhe
