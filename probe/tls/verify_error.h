// Certificate verification errors as the TLS library reports them during the handshake, and
// their texts. wolfSSL mixes OpenSSL X509_V_ERR_* numbers (it is built with
// WOLFSSL_ERROR_CODE_OPENSSL) with raw negative wolfSSL codes (e.g. -322 for a host name
// mismatch), and its own string function knows few of either: hence this table.
#pragma once

#include <string>

namespace bhe {

struct VerifyError {
  int code = 0;   // X509_V_ERR_* (> 0) or a raw wolfSSL/wolfCrypt error (< 0)
  int depth = 0;  // position of the certificate in the chain as presented (0 = first)
  std::string text;

  bool operator==(const VerifyError&) const = default;
};

// "certificate has expired", "unable to get local issuer certificate", "peer subject name
// mismatch", ...; "unknown verification error" for codes nobody knows.
std::string verifyErrorText(int code);

// Codes whose condition the chain analyser judges itself from the presented chain, so they do
// not by themselves make a tls_cert_verification_failed: validity windows (9, 10, 13, 14, -150,
// -151), issuer and trust (2, 18, 19, 20, 21, -188, -275) and host name (62, 64, -322, -325).
bool isJudgedByChainAnalysis(int code);

}  // namespace bhe
