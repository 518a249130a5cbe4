// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
// clang-format on

#include "probe/tls/verify_error.h"

#include <array>
#include <string_view>

#include "pki/x509.h"

namespace bhe {
namespace {

// OpenSSL 3.0's X509_verify_cert_error_string() texts, indexed by X509_V_ERR_* value.
constexpr std::array<std::string_view, 80> kX509Texts = {
    "ok",
    "unspecified certificate verification error",
    "unable to get issuer certificate",
    "unable to get certificate CRL",
    "unable to decrypt certificate's signature",
    "unable to decrypt CRL's signature",
    "unable to decode issuer public key",
    "certificate signature failure",
    "CRL signature failure",
    "certificate is not yet valid",
    "certificate has expired",
    "CRL is not yet valid",
    "CRL has expired",
    "format error in certificate's notBefore field",
    "format error in certificate's notAfter field",
    "format error in CRL's lastUpdate field",
    "format error in CRL's nextUpdate field",
    "out of memory",
    "self-signed certificate",
    "self-signed certificate in certificate chain",
    "unable to get local issuer certificate",
    "unable to verify the first certificate",
    "certificate chain too long",
    "certificate revoked",
    "invalid CA certificate",
    "path length constraint exceeded",
    "unsupported certificate purpose",
    "certificate not trusted",
    "certificate rejected",
    "subject issuer mismatch",
    "authority and subject key identifier mismatch",
    "authority and issuer serial number mismatch",
    "key usage does not include certificate signing",
    "unable to get CRL issuer certificate",
    "unhandled critical extension",
    "key usage does not include CRL signing",
    "unhandled critical CRL extension",
    "invalid non-CA certificate (has CA markings)",
    "proxy path length constraint exceeded",
    "key usage does not include digital signature",
    "proxy certificates not allowed",
    "invalid or inconsistent certificate extension",
    "invalid or inconsistent certificate policy extension",
    "no explicit policy",
    "different CRL scope",
    "unsupported extension feature",
    "RFC 3779 resource not subset of parent's resources",
    "permitted subtree violation",
    "excluded subtree violation",
    "name constraints minimum and maximum not supported",
    "application verification failure",
    "unsupported name constraint type",
    "unsupported or invalid name constraint syntax",
    "unsupported or invalid name syntax",
    "CRL path validation error",
    "path loop",
    "Suite B: certificate version invalid",
    "Suite B: invalid public key algorithm",
    "Suite B: invalid ECC curve",
    "Suite B: invalid signature algorithm",
    "Suite B: curve not allowed for this LOS",
    "Suite B: cannot sign P-384 with P-256",
    "hostname mismatch",
    "email address mismatch",
    "IP address mismatch",
    "no matching DANE TLSA records",
    "EE certificate key too weak",
    "CA certificate key too weak",
    "CA signature digest algorithm too weak",
    "invalid certificate verification context",
    "issuer certificate lookup error",
    "Certificate Transparency required, but no valid SCTs found",
    "proxy subject name violation",
    "OCSP verification needed",
    "OCSP verification failed",
    "OCSP unknown cert",
    "unsupported signature algorithm",
    "subject signature algorithm and issuer public key algorithm mismatch",
    "cert info signature and signature algorithm mismatch",
    "certificate public key has explicit ECC parameters",
};

}  // namespace

std::string verifyErrorText(int code) {
  if (code >= 0 && static_cast<std::size_t>(code) < kX509Texts.size()) {
    return std::string(kX509Texts[static_cast<std::size_t>(code)]);
  }
  if (code < 0) {
    ensureWolfSslInitialized();
    // wolfSSL's own codes (and wolfCrypt's, -100..-299) are all known to its error strings.
    char buffer[WOLFSSL_MAX_ERROR_SZ] = {};
    wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buffer, sizeof(buffer));
    std::string text(buffer);
    if (!text.empty() && text.find("unknown") == std::string::npos) {
      return text;
    }
  }
  return "unknown verification error";
}

bool isJudgedByChainAnalysis(int code) {
  switch (code) {
    case 2:     // unable to get issuer certificate
    case 9:     // not yet valid
    case 10:    // expired
    case 13:    // wolfSSL reports "not yet valid" here
    case 14:    // wolfSSL reports "expired" here
    case 18:    // self-signed leaf
    case 19:    // self-signed certificate in chain
    case 20:    // unable to get local issuer
    case 21:    // unable to verify the first certificate
    case 62:    // hostname mismatch
    case 64:    // IP address mismatch
    case -150:  // ASN_BEFORE_DATE_E
    case -151:  // ASN_AFTER_DATE_E
    case -188:  // ASN_NO_SIGNER_E
    case -275:  // ASN_SELF_SIGNED_E
    case -322:  // DOMAIN_NAME_MISMATCH
    case -325:  // IPADDR_MISMATCH
      return true;
    default:
      return false;
  }
}

}  // namespace bhe
