// The revocation PKI of tests/fixtures/tls/make-revocation-pki.sh for the unit tests: made by
// ctest's fixture ($BHE_REVOCATION_PKI_DIR), or once per process into a temporary directory. Its
// endpoints name port 9 on 127.0.0.1, which the unit tests never contact.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "pki/certificate_file.h"
#include "pki/x509.h"

namespace bhe::test::revocation_pki {

inline const std::string& directory() {
  static const std::string dir = [] {
    const char* from_ctest = std::getenv("BHE_REVOCATION_PKI_DIR");
    if (from_ctest != nullptr &&
        std::filesystem::exists(std::string(from_ctest) + "/rv-root.pem")) {
      return std::string(from_ctest);
    }
    // Outside ctest: generate once into a temporary directory (the ports are never contacted).
    std::string tmpl = (std::filesystem::temp_directory_path() / "bhe-rv-pki-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    const std::string cmd = std::string(BHE_TLS_FIXTURES_DIR) + "/make-revocation-pki.sh " + tmpl +
                            " 9 9 9 9 >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      throw std::runtime_error("make-revocation-pki.sh failed");
    }
    static std::string generated;
    generated = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(generated, ec);
    });
    return tmpl;
  }();
  return dir;
}

inline Der cert(const std::string& name) {
  CertificateFile file = readCertificateFile(directory() + "/" + name);
  if (!file.ok()) {
    throw std::runtime_error(name + ": " + file.error);
  }
  return file.certificates.at(0);
}

inline std::string bytes(const std::string& name) {
  std::ifstream f(directory() + "/" + name, std::ios::binary);
  if (!f) {
    throw std::runtime_error("cannot read " + name);
  }
  return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace bhe::test::revocation_pki
