#include "config/trusted_roots.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace bhe {

// Placeholder until the TLS phase's certificate parser lands: only checks that files are readable.
std::string loadTrustedRoot(TrustedRootCertificate& root) {
  std::ifstream in(root.path, std::ios::binary);
  if (!in) {
    return std::string("cannot read: ") + std::strerror(errno);
  }
  return "";
}

std::string checkWellKnownBundle(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::string("cannot read: ") + std::strerror(errno);
  }
  return "";
}

}  // namespace bhe
