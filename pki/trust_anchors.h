// An immutable set of trust anchors: the well-known CA bundle, or the roots uploaded to one
// backend settings (`trusted_root_certificates`). Built once per config and shared read-only
// by every probe of those settings (and by the wolfSSL context built from it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pki/x509.h"

namespace bhe {

class TrustAnchors {
 public:
  // Certificates that wolfSSL cannot parse are skipped and counted (a system bundle may hold
  // algorithms this build lacks); duplicates are kept once.
  static std::shared_ptr<const TrustAnchors> fromCertificates(const std::vector<Der>& certs);

  // A PEM bundle such as /etc/ssl/certs/ca-certificates.crt (or any file readCertificateFile
  // accepts). Null with `error` set when the file is unreadable or holds no certificate.
  static std::shared_ptr<const TrustAnchors> fromFile(const std::string& path, std::string* error);

  TrustAnchors(const TrustAnchors&) = delete;
  TrustAnchors& operator=(const TrustAnchors&) = delete;

  // Unique in this process, never reused (unlike an address), so a verdict remembered against
  // one set of anchors is never taken for another one built after a reload.
  std::uint64_t id() const { return id_; }
  std::size_t size() const { return anchors_.size(); }
  bool empty() const { return anchors_.empty(); }
  std::size_t skipped() const { return skipped_; }  // unparsable input certificates
  const Certificate& at(std::size_t i) const { return *anchors_[i]; }

  // The anchor whose subject is `cert`'s issuer name and whose public key verifies `cert`'s
  // signature; null when none did. A name match alone never counts.
  const Certificate* findIssuerOf(const Certificate& cert) const;
  // Anchors carrying `cert`'s issuer name, whatever their key (to explain "right name, wrong key").
  std::vector<const Certificate*> withSubjectNamedAsIssuerOf(const Certificate& cert) const;
  // This exact certificate (byte for byte) is an anchor.
  bool contains(const Certificate& cert) const;

 private:
  TrustAnchors() = default;
  static std::shared_ptr<TrustAnchors> build(const std::vector<Der>& certs);

  std::vector<std::unique_ptr<const Certificate>> anchors_;
  std::unordered_multimap<std::string, std::size_t> by_subject_;  // canonical subject -> index
  std::unordered_set<std::string> der_;
  std::size_t skipped_ = 0;
  std::uint64_t id_ = 0;
};

}  // namespace bhe
