// Reading certificate files the way users upload them to Application Gateway: PEM (one or more
// certificates), a base64 ".cer" without PEM armour, or binary DER (one or more, concatenated).
// Config validation calls this and prefixes the messages with FILE:LINE:COL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pki/x509.h"

namespace bhe {

// A certificate file holds a chain or a handful of roots (a few KiB); a CA bundle holds every
// public root (Debian's /etc/ssl/certs/ca-certificates.crt: about 215 KiB for 144 roots).
inline constexpr std::size_t kMaxCertificateFileBytes = 1024 * 1024;
inline constexpr std::size_t kMaxCaBundleBytes = 16 * 1024 * 1024;

struct CertificateFile {
  std::vector<Der> certificates;  // DER, in file order; empty when error is set
  std::string error;              // e.g. "cannot read: No such file or directory"
  std::size_t skipped = 0;        // invalid PEM certificate blocks left out (lenient mode only)
  bool ok() const { return error.empty(); }
};

// Never throws, never blocks on the file's kind (common/bounded_file.h). Messages (no path in
// them, the caller has it):
//   "cannot read: <strerror>"                 stat/open/read failed (missing, permissions)
//   "cannot read: it is a directory, not a regular file"   (also FIFO, character device, ...)
//   "cannot read: it is larger than 1 MiB, the limit for a certificate file (it has N bytes)"
//   "empty file"
//   "not a certificate (no PEM, base64 or DER X.509 found)"
//   "not a certificate (PEM holds PRIVATE KEY, no CERTIFICATE)"
//   "PEM block 2 (CERTIFICATE) is not a valid X.509 certificate"
//
// `lenient` (for CA bundles): PEM certificate blocks wolfSSL cannot parse are skipped and counted
// instead of failing the whole file, as one exotic root must not disable a 140-root bundle; the
// size limit is kMaxCaBundleBytes instead of kMaxCertificateFileBytes.
CertificateFile readCertificateFile(const std::string& path, bool lenient = false);

// The whole file into `content` (a regular file of at most kMaxCertificateFileBytes: certificate
// and key files); returns "" or the "cannot read: ..." message readCertificateFile gives.
std::string readFileBytes(const std::string& path, std::string& content);

// The same, on bytes already in memory.
CertificateFile parseCertificateBytes(std::string_view bytes, bool lenient = false);

// basicConstraints CA:TRUE. False for anything that does not parse.
bool isCaCertificate(std::span<const std::uint8_t> der);

// For `trusted_root_certificates`: empty when every certificate of the file is a CA, else
// "certificate 1 of 1 (CN=good.test,O=BHE Test) is not a CA certificate (basicConstraints
// CA:FALSE)". A non-CA would never be accepted as an anchor, so config validation refuses it.
std::string checkTrustedRootFile(const CertificateFile& file);

}  // namespace bhe
