// The client certificate and private key a probe presents when the backend asks for one (mutual
// TLS). Checked once, when the config is loaded, so that a wrong file is a config error with its
// position, and held in memory from then on: the probe engine never reads files at probe time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pki/x509.h"

struct WOLFSSL_CTX;

namespace bhe {

struct ClientIdentity {
  // The client certificate first, then the intermediates the file holds after it (file order):
  // a server that trusts only the client root needs them to build the path.
  std::vector<Der> certificates;
  // DER as the PEM held it (PKCS#8, SEC1 EC or PKCS#1 RSA); wolfSSL loads all three as ASN1.
  Der private_key;
  std::string subject;         // of the client certificate, RFC 4514: "CN=probe,O=BHE Test"
  std::int64_t not_after = 0;  // of the client certificate, unix seconds

  ~ClientIdentity();  // wipes private_key
};

struct ClientIdentityParse {
  std::shared_ptr<const ClientIdentity> identity;  // set only when both errors are empty
  // What is wrong with each file, without its path (the caller has it):
  //   certificate: "empty file", "not PEM (expected -----BEGIN CERTIFICATE-----)",
  //     "not a certificate (PEM holds PRIVATE KEY, no CERTIFICATE)",
  //     "PEM block 1 (CERTIFICATE) is not a valid X.509 certificate",
  //     "the certificate (CN=x) has an extendedKeyUsage without clientAuth (serverAuth): ..."
  //   key: "empty file", "not PEM (expected -----BEGIN PRIVATE KEY-----)",
  //     "not a private key (PEM holds CERTIFICATE, no PRIVATE KEY)", "PEM block 1 (ENCRYPTED
  //     PRIVATE KEY) is encrypted; ...", "holds 2 private keys ...", "PEM block 1 (PRIVATE KEY) is
  //     not a private key wolfSSL can use", "does not match the certificate (CN=x): ..."
  // The key is compared with the certificate only when both parsed on their own.
  std::string certificate_error;
  std::string key_error;
  bool ok() const { return certificate_error.empty() && key_error.empty(); }
};

// Pure function of the two files' bytes (they may be the same file holding both). The key must
// belong to the certificate: proven by a signature made with the key that verifies with the
// certificate's public key, because wolfSSL_CTX_check_private_key() accepts a foreign EC key of
// the same curve (wolfSSL 5.5.4 checks only that the point is on the curve).
ClientIdentityParse parseClientIdentity(std::string_view certificate_pem, std::string_view key_pem);

// Installs the identity into a client context: the whole chain (wolfSSL's plain
// use_certificate call would send the leaf alone, and a server that trusts only the client root
// refuses that) and the key. Returns "" or what wolfSSL refused.
std::string useClientIdentity(WOLFSSL_CTX* ctx, const ClientIdentity& identity);

}  // namespace bhe
