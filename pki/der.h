// Reading one DER TLV (X.509, OCSP and CRL structures): single-byte tags, definite lengths of up
// to 4 bytes. Never reads past its input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace bhe {

struct DerTlv {
  std::uint8_t tag = 0;
  std::span<const std::uint8_t> value;
  std::size_t size = 0;  // header + value
};

// The TLV at the start of `in`; nothing when it is malformed, uses a multi-byte tag or runs past
// the end.
std::optional<DerTlv> readDerTlv(std::span<const std::uint8_t> in);

}  // namespace bhe
