// Reading one DER TLV (X.509, OCSP and CRL structures): single-byte tags, definite lengths of up
// to 4 bytes. Never reads past its input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace bhe {

struct DerTlv {
  std::uint8_t tag = 0;
  std::span<const std::uint8_t> value;
  std::size_t size = 0;  // header + value
};

// The TLV at the start of `in`; nothing when it is malformed, uses a multi-byte tag or runs past
// the end.
std::optional<DerTlv> readDerTlv(std::span<const std::uint8_t> in);

// UTCTime "YYMMDDHHMMSSZ" (years 1950-2049) or GeneralizedTime "YYYYMMDDHHMMSSZ", the forms
// RFC 5280 §4.1.2.5 allows, as unix seconds; anything else is refused rather than guessed.
std::optional<std::int64_t> derTimeToUnix(std::string_view text);
// The same for a UTCTime (0x17) or GeneralizedTime (0x18) TLV; its tag must match its form.
std::optional<std::int64_t> derTimeToUnix(const DerTlv& time);

}  // namespace bhe
