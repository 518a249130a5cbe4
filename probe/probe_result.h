// What one probe of one target produced, phase by phase. Filled by the probe pipeline, read by
// the target's session (health) and published by the exporter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/classify/reason.h"
#include "probe/tls/chain_analysis.h"

namespace bhe {

struct PhaseSeconds {
  double dns = 0;
  double connect = 0;
  double tls = 0;
  double http = 0;
  double total = 0;
};

// The revocation state of one presented certificate of the verified path.
struct CertificateRevocationView {
  int position = 0;
  std::string state;    // "good (OCSP)", "revoked (CRL)", "unknown", "no revocation information"
  std::string details;  // the answer that decided, or every failed one
};

struct TlsObservation {
  std::string version;  // e.g. "TLSv1.3"
  std::string cipher;
  std::vector<ChainCertificate> chain;  // as presented
  std::optional<std::int64_t> leaf_not_after;
  std::optional<std::int64_t> chain_earliest_not_after;
  // Filled when revocation was checked (check_revocation and an established trust path).
  std::vector<CertificateRevocationView> revocation;
};

struct ProbeResult {
  bool success = false;
  Reason reason = Reason::kNotYetProbed;  // meaningful only when !success
  std::string details;
  int http_status = 0;  // 0 = no status received
  PhaseSeconds seconds;
  std::string address;  // the IP address probed, empty if resolution failed
  bool dns_stale = false;
  std::optional<TlsObservation> tls;
  std::int64_t started_unix_ms = 0;
  std::vector<std::string> trace;  // step-by-step log, filled only when requested
};

}  // namespace bhe
