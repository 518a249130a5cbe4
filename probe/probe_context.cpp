#include "probe/probe_context.h"

#include <stdexcept>

#include "pki/trust_anchors.h"

namespace bhe {
namespace {

std::shared_ptr<const TlsSettings> makeTlsSettings(
    std::shared_ptr<const TrustAnchors> anchors, TrustMode mode, const std::string& what,
    std::shared_ptr<const ClientIdentity> client_identity = nullptr) {
  std::string error;
  TlsContextOptions options;
  options.client_identity = std::move(client_identity);
  auto context = TlsContext::create(std::move(anchors), options, &error);
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
    needs_well_known = needs_well_known || (settings.protocol == Protocol::kHttps &&
                                            !settings.trusted_root_certificates);
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
  // Settings with their own roots or a client certificate get a context of their own; the
  // others share the well-known one.
  for (const auto& settings : config.settings) {
    if (settings.protocol != Protocol::kHttps ||
        (!settings.trusted_root_certificates && !settings.client_identity)) {
      continue;
    }
    const std::string what = "backend settings \"" + settings.name + "\"";
    if (!settings.trusted_root_certificates) {
      context->by_settings_[settings.name] =
          makeTlsSettings(context->well_known_->context->sharedAnchors(), TrustMode::kWellKnown,
                          what, settings.client_identity);
      continue;
    }
    std::vector<Der> roots;
    for (const auto& file : *settings.trusted_root_certificates) {
      roots.insert(roots.end(), file.der.begin(), file.der.end());
    }
    context->by_settings_[settings.name] = makeTlsSettings(
        TrustAnchors::fromCertificates(roots), TrustMode::kPrivate, what, settings.client_identity);
  }
  return context;
}

const TlsSettings* ProbeContext::tlsFor(const ProbeTarget& target) const {
  if (target.trusted_roots || target.client_identity) {
    auto it = by_settings_.find(target.key.settings);
    return it != by_settings_.end() ? it->second.get() : nullptr;
  }
  return well_known_.get();
}

}  // namespace bhe
