// The closed set of failure reasons (README: "States and reasons"), with the category, the state
// each one puts a server in, the operator-facing message and the resolution hint. This table is the
// single source of truth for the metric labels, the JSON, the status page, `probe --once` and the
// runbooks.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace bhe {

enum class HealthState { kHealthy, kUnhealthy, kUnknown };

enum class Reason {
  kBackendTimeout,
  kDnsResolutionError,
  kTcpConnectError,
  kHttpStatusMismatch,
  kHttpBodyMismatch,
  kHttpInvalidResponse,
  kTlsHandshakeError,
  kTlsCnMismatch,
  kTlsCertExpired,
  kTlsIntermediateMissing,
  kTlsLeafMissing,
  kTlsLeafNotTopmost,
  kTlsCertNotPublicCa,
  kTlsIntermediateNotPublicCa,
  kTlsTrustedRootMismatchNoRoot,
  kTlsTrustedRootMismatch,
  kTlsCertVerificationFailed,
  kNotYetProbed,
  kDnsServerUnreachable,
  kNetworkUnreachable,
  kTlsCertRevoked,
  kTlsRevocationUnknown,
  kExporterResourceExhausted,
};

struct ReasonInfo {
  Reason reason;
  std::string_view name;      // metric label value, e.g. "tcp_connect_error"
  std::string_view category;  // "timeout", "dns", "tcp", "http", "tls", "unknown", "network",
                              // "exporter"
  HealthState state;          // the state a server with this reason is in
  std::string_view message;   // one sentence: what happened
  std::string_view hint;      // what to check to fix it
};

inline constexpr std::size_t kReasonCount = 23;

// Every reason, in the order of the contract's table.
const std::array<ReasonInfo, kReasonCount>& allReasons();

const ReasonInfo& describe(Reason reason);
std::optional<Reason> reasonFromName(std::string_view name);

std::string_view stateName(HealthState state);  // "healthy" | "unhealthy" | "unknown"
inline constexpr std::array<HealthState, 3> kAllStates{
    HealthState::kHealthy, HealthState::kUnhealthy, HealthState::kUnknown};

}  // namespace bhe
