#include "config/trusted_roots.h"

#include "pki/certificate_file.h"

namespace bhe {

std::string loadTrustedRoot(TrustedRootCertificate& root) {
  CertificateFile file = readCertificateFile(root.path);
  if (!file.ok()) {
    return file.error;
  }
  if (std::string problem = checkTrustedRootFile(file); !problem.empty()) {
    return problem;
  }
  root.der = std::move(file.certificates);
  return "";
}

std::string checkWellKnownBundle(const std::string& path) {
  // A system bundle may carry a certificate wolfSSL cannot parse; that one is skipped.
  CertificateFile file = readCertificateFile(path, /*lenient=*/true);
  return file.ok() ? "" : file.error;
}

}  // namespace bhe
