// A bounded reader of DER TLVs, for the two facts of a revocation that wolfSSL 5.5.4 parses but
// does not keep: the revocation time and the reason code (of an OCSP SingleResponse and of a CRL
// entry). wolfSSL still decides everything else (parsing, signatures, the status itself); this
// only looks up those fields in responses wolfSSL has accepted. Never reads past its input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "pki/der.h"

namespace bhe {

class DerReader {
 public:
  explicit DerReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  // The next TLV (single-byte tags, definite lengths up to 4 bytes); nothing at the end or on
  // malformed input (and then the reader is exhausted).
  std::optional<DerTlv> next();
  // The next TLV when its tag is `tag`; otherwise nothing and the position is unchanged.
  std::optional<DerTlv> nextIf(std::uint8_t tag);
  bool atEnd() const { return pos_ >= bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// An INTEGER's content without leading zero bytes, for comparing serial numbers.
std::span<const std::uint8_t> derUnsignedDigits(std::span<const std::uint8_t> integer);

struct RevocationDetailsFound {
  std::optional<std::int64_t> revoked_at;
  std::optional<int> reason_code;
};

// In an OCSPResponse (DER), the revokedInfo of the SingleResponse for `serial`.
RevocationDetailsFound findOcspRevocation(std::span<const std::uint8_t> response,
                                          std::span<const std::uint8_t> serial);

// In a CRL (DER), the revocation date and reasonCode extension of the entry for `serial`.
RevocationDetailsFound findCrlRevocation(std::span<const std::uint8_t> crl,
                                         std::span<const std::uint8_t> serial);

}  // namespace bhe
