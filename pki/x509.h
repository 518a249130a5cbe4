// A parsed X.509 certificate with the few fields the TLS phase reasons about, over wolfSSL's
// compatibility layer. Kept behind this small class so only pki/ and probe/tls include
// wolfSSL headers (their include order is fragile: <wolfssl/options.h> must come first).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bhe {

using Der = std::vector<std::uint8_t>;

// wolfSSL_Init() once per process; every entry point of pki/ and probe/tls calls it first. wolfSSL
// is never cleaned up: contexts may live until exit.
void ensureWolfSslInitialized();
// Frees what wolfSSL keeps per thread (the fixed-point ECC cache, thread-local in Debian's
// build): a thread other than the main one that verified or signed with ECC calls it when it is
// done, or the cache is lost with the thread.
void releaseWolfSslThreadCaches();

class Certificate {
 public:
  // Null when `der` is not exactly one DER X.509 certificate that wolfSSL can parse.
  static std::unique_ptr<const Certificate> parse(std::span<const std::uint8_t> der);

  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  const Der& der() const { return der_; }
  // RFC 4514 order, most specific first: "CN=good.test,O=BHE Test".
  const std::string& subject() const { return subject_; }
  const std::string& issuer() const { return issuer_; }
  std::int64_t notBefore() const { return not_before_; }  // unix seconds
  std::int64_t notAfter() const { return not_after_; }
  // basicConstraints CA:TRUE. A certificate without basicConstraints is not a CA.
  bool isCa() const { return is_ca_; }

  // Subject and issuer names are equal (canonical comparison).
  bool isSelfIssued() const { return subject_key_ == issuer_key_; }
  // `candidate`'s subject is this certificate's issuer name.
  bool issuerNameIs(const Certificate& candidate) const {
    return issuer_key_ == candidate.subject_key_;
  }
  // A real signature check: `issuer`'s public key verifies this certificate's signature.
  // Deliberately ignores names so callers can tell "right name, wrong key" apart. The key is
  // decoded for this check only: most parsed certificates (a CA bundle, a chain whose verdict is
  // remembered) never need theirs, and a wolfSSL key object costs a DRBG self-test to build.
  bool signatureVerifiesWith(const Certificate& issuer) const;
  // Issuer name matches and the signature verifies.
  bool isIssuedBy(const Certificate& issuer) const {
    return issuerNameIs(issuer) && signatureVerifiesWith(issuer);
  }
  bool isSelfSigned() const { return isSelfIssued() && signatureVerifiesWith(*this); }

  // Canonical subject / issuer name bytes (case- and space-folded), for hashing.
  const std::string& subjectKey() const { return subject_key_; }
  const std::string& issuerKey() const { return issuer_key_; }

  // Identity of the subject, for host name matching.
  bool hasSubjectAltName() const { return has_san_; }
  const std::vector<std::string>& dnsNames() const { return dns_names_; }  // cert order
  const std::vector<Der>& ipAddresses() const { return ip_addresses_; }    // 4 or 16 bytes
  const std::vector<std::string>& commonNames() const { return common_names_; }

 private:
  Certificate() = default;
  static void readSubjectAltName(std::span<const std::uint8_t> der, Certificate& cert);
  std::span<const std::uint8_t> subjectPublicKeyInfo() const {
    return std::span(der_).subspan(spki_offset_, spki_size_);
  }

  Der der_;
  // The SubjectPublicKeyInfo inside der_ and wolfSSL's key type (its OID sum), for signature
  // checks.
  std::size_t spki_offset_ = 0;
  std::size_t spki_size_ = 0;
  int key_type_ = 0;
  std::string subject_;
  std::string issuer_;
  std::string subject_key_;
  std::string issuer_key_;
  std::int64_t not_before_ = 0;
  std::int64_t not_after_ = 0;
  bool is_ca_ = false;
  bool has_san_ = false;
  std::vector<std::string> dns_names_;
  std::vector<Der> ip_addresses_;
  std::vector<std::string> common_names_;
};

// Total size (header + content) of the DER SEQUENCE starting at bytes[0]; 0 when the bytes do
// not start with a complete definite-length SEQUENCE. Splits concatenated DER certificates.
std::size_t derSequenceSize(std::span<const std::uint8_t> bytes);

// Printable form of an iPAddress SAN ("127.0.0.1", "::1").
std::string formatIpAddress(std::span<const std::uint8_t> bytes);

}  // namespace bhe
