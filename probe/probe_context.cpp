#include "probe/probe_context.h"

#include <stdexcept>

#include "pki/trust_anchors.h"

namespace bhe {
namespace {

std::shared_ptr<const TlsSettings> makeTlsSettings(std::shared_ptr<const TrustAnchors> anchors,
                                                   TrustMode mode, const std::string& what) {
  std::string error;
  auto context = TlsContext::create(std::move(anchors), {}, &error);
  if (!context) {
    throw std::runtime_error("cannot set up TLS for " + what + ": " + error);
  }
  return std::make_shared<const TlsSettings>(TlsSettings{std::move(context), mode});
}

std::shared_ptr<const TlsSettings> loadWellKnown(const std::string& bundle) {
  std::string error;
  auto anchors = TrustAnchors::fromFile(bundle, &error);
  if (!anchors) {
    throw std::runtime_error("cannot load the well-known CA bundle " + bundle + ": " + error);
  }
  return makeTlsSettings(std::move(anchors), TrustMode::kWellKnown,
                         "the well-known CA bundle " + bundle);
}

}  // namespace

std::shared_ptr<const ProbeContext> ProbeContext::build(const Config& config,
                                                        bool well_known_for_any_target,
                                                        const ProbeContext* previous) {
  auto context = std::make_shared<ProbeContext>();
  context->max_response_bytes_ = config.exporter.max_response_bytes;
  context->max_addresses_per_server_ =
      static_cast<std::size_t>(config.exporter.max_addresses_per_server);
  bool needs_well_known = well_known_for_any_target;
  for (const auto& settings : config.settings) {
    if (settings.protocol != Protocol::kHttps) {
      continue;
    }
    if (!settings.trusted_root_certificates) {
      needs_well_known = true;
      continue;
    }
    std::vector<Der> roots;
    for (const auto& file : *settings.trusted_root_certificates) {
      roots.insert(roots.end(), file.der.begin(), file.der.end());
    }
    context->private_by_settings_[settings.name] =
        makeTlsSettings(TrustAnchors::fromCertificates(roots), TrustMode::kPrivate,
                        "backend settings \"" + settings.name + "\"");
  }
  context->well_known_bundle_ = config.exporter.well_known_ca_bundle;
  if (needs_well_known) {
    if (previous != nullptr && previous->well_known_ &&
        previous->well_known_bundle_ == context->well_known_bundle_) {
      context->well_known_ = previous->well_known_;
    } else {
      context->well_known_ = loadWellKnown(context->well_known_bundle_);
    }
  }
  return context;
}

const TlsSettings* ProbeContext::tlsFor(const ProbeTarget& target) const {
  if (target.trusted_roots) {
    auto it = private_by_settings_.find(target.key.settings);
    if (it != private_by_settings_.end()) {
      return it->second.get();
    }
  }
  return well_known_.get();
}

}  // namespace bhe
