// What every probe of one configuration shares, built once per (re)load, never on a probe's path:
// the TLS contexts (trust anchors loaded into wolfSSL) of each HTTPS backend settings and of the
// well-known CA bundle, and the probe limits. Immutable once built; a probe keeps the context it
// started with alive, so a reload never pulls anything from under a running probe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/targets.h"
#include "probe/tls/chain_analysis.h"
#include "probe/tls/tls_client.h"

namespace bhe {

// How one backend settings' HTTPS probes verify.
struct TlsSettings {
  std::shared_ptr<const TlsContext> context;
  TrustMode mode = TrustMode::kWellKnown;
};

class ProbeContext {
 public:
  // Throws std::runtime_error (nothing is half-built) when a TLS context cannot be set up or the
  // well-known bundle cannot be loaded. The bundle is loaded when some HTTPS settings trust the
  // well-known CAs or `well_known_for_any_target` (arbitrary /probe targets); it is reused from
  // `previous` when its path is unchanged.
  static std::shared_ptr<const ProbeContext> build(const Config& config,
                                                   bool well_known_for_any_target,
                                                   const ProbeContext* previous);

  // The TLS settings an HTTPS target is probed with; null when there are none (the probe then
  // fails with tls_handshake_error).
  const TlsSettings* tlsFor(const ProbeTarget& target) const;
  std::size_t maxResponseBytes() const { return max_response_bytes_; }
  std::size_t maxAddressesPerServer() const { return max_addresses_per_server_; }

 private:
  std::size_t max_response_bytes_ = 65536;
  std::size_t max_addresses_per_server_ = 16;
  std::string well_known_bundle_;
  std::shared_ptr<const TlsSettings> well_known_;
  // HTTPS settings with trusted_root_certificates or a client certificate, by name.
  std::map<std::string, std::shared_ptr<const TlsSettings>> by_settings_;
};

}  // namespace bhe
