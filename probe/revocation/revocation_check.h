// OCSP and CRL over wolfSSL: what a certificate names (AIA OCSP responders, CRL distribution
// points), the OCSP request for it, and the judgement of a response or CRL: parsed, signed by
// the certificate's issuer (or, for OCSP, a responder the issuer authorized with
// id-kp-OCSPSigning), current, and what it says about this certificate. No I/O: the revocation
// step fetches the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pki/x509.h"
#include "probe/revocation/revocation_decision.h"

namespace bhe {

struct RevocationEndpoints {
  std::vector<std::string> ocsp_urls;  // AIA id-ad-ocsp, certificate order
  std::vector<std::string> crl_urls;   // CRL distribution point URIs, certificate order
};
RevocationEndpoints readRevocationEndpoints(const Der& certificate);

// The DER OCSPRequest for `certificate` issued by `issuer` (SHA-1 CertID, no nonce, so equal
// requests can share one answer); empty when wolfSSL cannot build it.
std::string buildOcspRequest(const Der& certificate, const Der& issuer);

struct CheckedAnswer {
  SourceAnswer answer;  // outcome and failure; the caller fills source and endpoint
  // Good or revoked: when the answer stops being current (nextUpdate), unix seconds.
  std::optional<std::int64_t> next_update;
};

// `ca_path`: the certificate's issuer first, then the CAs above it on the verified path up to
// the trust anchor (a responder certificate included in the response is verified against them).
CheckedAnswer checkOcspResponse(std::string_view response, const Der& certificate,
                                std::span<const Der> ca_path, std::int64_t now);

CheckedAnswer checkCrl(std::string_view crl, const Der& certificate, const Der& issuer,
                       std::int64_t now);

// A CRL's nextUpdate (unix seconds) when it parses and has one, for caching its bytes.
std::optional<std::int64_t> crlNextUpdate(std::string_view crl);

}  // namespace bhe
