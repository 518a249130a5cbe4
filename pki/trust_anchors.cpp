#include "pki/trust_anchors.h"

#include <atomic>

#include "pki/certificate_file.h"

namespace bhe {
namespace {

std::string derKey(const Der& der) {
  return {der.begin(), der.end()};
}

}  // namespace

std::shared_ptr<const TrustAnchors> TrustAnchors::fromCertificates(const std::vector<Der>& certs) {
  return build(certs);
}

std::shared_ptr<TrustAnchors> TrustAnchors::build(const std::vector<Der>& certs) {
  static std::atomic<std::uint64_t> last_id{0};
  std::shared_ptr<TrustAnchors> anchors(new TrustAnchors());
  anchors->id_ = ++last_id;
  anchors->anchors_.reserve(certs.size());
  for (const Der& der : certs) {
    auto cert = Certificate::parse(der);
    if (cert == nullptr) {
      ++anchors->skipped_;
      continue;
    }
    if (!anchors->der_.insert(derKey(der)).second) {
      continue;
    }
    anchors->by_subject_.emplace(cert->subjectKey(), anchors->anchors_.size());
    anchors->anchors_.push_back(std::move(cert));
  }
  return anchors;
}

std::shared_ptr<const TrustAnchors> TrustAnchors::fromFile(const std::string& path,
                                                           std::string* error) {
  CertificateFile file = readCertificateFile(path, /*lenient=*/true);
  if (!file.ok()) {
    if (error != nullptr) {
      *error = file.error;
    }
    return nullptr;
  }
  std::shared_ptr<TrustAnchors> anchors = build(file.certificates);
  anchors->skipped_ += file.skipped;
  return anchors;
}

const Certificate* TrustAnchors::findIssuerOf(const Certificate& cert) const {
  auto [first, last] = by_subject_.equal_range(cert.issuerKey());
  for (auto it = first; it != last; ++it) {
    const Certificate& anchor = *anchors_[it->second];
    if (cert.signatureVerifiesWith(anchor)) {
      return &anchor;
    }
  }
  return nullptr;
}

std::vector<const Certificate*> TrustAnchors::withSubjectNamedAsIssuerOf(
    const Certificate& cert) const {
  std::vector<const Certificate*> found;
  auto [first, last] = by_subject_.equal_range(cert.issuerKey());
  for (auto it = first; it != last; ++it) {
    found.push_back(anchors_[it->second].get());
  }
  return found;
}

bool TrustAnchors::contains(const Certificate& cert) const {
  return der_.contains(derKey(cert.der()));
}

}  // namespace bhe
