#include "probe/classify/reason.h"

namespace bhe {
namespace {

using enum Reason;
constexpr HealthState kUnhealthy = HealthState::kUnhealthy;
constexpr HealthState kUnknown = HealthState::kUnknown;

constexpr std::array<ReasonInfo, kReasonCount> kReasons{{
    {kBackendTimeout, "backend_timeout", "timeout", kUnhealthy,
     "The backend accepted the connection but did not complete its response within the probe "
     "timeout.",
     "Time the probe path by hand from the exporter's host (curl -w '%{time_total}'); look at the "
     "application's dependencies (database, downstream calls) and thread pools. If slow answers "
     "are expected, raise the probe timeout or point the probe at a cheaper path."},
    {kDnsResolutionError, "dns_resolution_error", "dns", kUnhealthy,
     "The DNS server answered that the backend's name does not exist or has no address.",
     "Check the spelling of the server name in the pool; resolve it with dig against the same DNS "
     "server the exporter uses; make sure the A/AAAA (or CNAME) record exists in that zone and "
     "view."},
    {kTcpConnectError, "tcp_connect_error", "tcp", kUnhealthy,
     "The exporter could not open a TCP connection to the backend's port (refused, reset or "
     "dropped).",
     "Check that the application listens on the configured port and address (ss -ltnp); check "
     "firewalls, security groups and network policies between the exporter and the backend; make "
     "sure the settings' port is the one the backend serves."},
    {kHttpStatusMismatch, "http_status_mismatch", "http", kUnhealthy,
     "The backend answered with an HTTP status outside the accepted ranges.",
     "401/403: the probe path needs credentials or is forbidden; probe an unauthenticated path or "
     "accept the code. 404: wrong path or Host header. 405: the path does not allow GET. 5xx: the "
     "application is failing; read its logs."},
    {kHttpBodyMismatch, "http_body_mismatch", "http", kUnhealthy,
     "The backend's response body does not contain the expected text.",
     "Fetch the probe path by hand with the same Host header and compare the body with "
     "match.body; only the first max_response_bytes of the body are searched."},
    {kHttpInvalidResponse, "http_invalid_response", "http", kUnhealthy,
     "The backend's answer was not a valid HTTP/1.x response, or the connection closed before "
     "the response was complete.",
     "Check that the port speaks plain HTTP (not TLS, not another protocol) and that the "
     "application does not crash or reset the connection while answering; look for a proxy in "
     "between that cuts responses."},
    {kTlsHandshakeError, "tls_handshake_error", "tls", kUnhealthy,
     "The TLS handshake failed: no shared protocol version or cipher, a fatal alert, or a peer "
     "that does not speak TLS.",
     "Run openssl s_client -connect HOST:PORT -servername NAME; check the TLS versions and ciphers "
     "the server allows (TLS 1.2 or 1.3 is needed) and that the port really serves TLS."},
    {kTlsCnMismatch, "tls_cn_mismatch", "tls", kUnhealthy,
     "The server certificate's names (SAN, or CN when there is no SAN) do not match the expected "
     "host name.",
     "Compare the certificate's SAN entries with the probe's host (probe host, else the settings' "
     "host_name, else the server address when picked from the backend address); fix the host "
     "name in the config or reissue the certificate with the right names."},
    {kTlsCertExpired, "tls_cert_expired", "tls", kUnhealthy,
     "A certificate in the presented chain is outside its validity period (expired or not yet "
     "valid).",
     "Renew the certificate named in the details (leaf or intermediate) and install the complete "
     "chain leaf > intermediate(s) > root on the server; check the server's clock for "
     "not-yet-valid certificates."},
    {kTlsIntermediateMissing, "tls_intermediate_missing", "tls", kUnhealthy,
     "The issuer of the server certificate is neither presented by the server nor trusted; a "
     "self-signed certificate that is not a CA also lands here.",
     "Install the intermediate certificate(s) from your CA on the server, after the leaf; a "
     "self-signed test certificate must be made a CA (basicConstraints CA:TRUE) and uploaded as "
     "a trusted root."},
    {kTlsLeafMissing, "tls_leaf_missing", "tls", kUnhealthy,
     "The server presented only CA certificates: its own (leaf) certificate is missing.",
     "Install the server's own certificate as the first certificate of the chain, followed by "
     "its intermediate(s) and root."},
    {kTlsLeafNotTopmost, "tls_leaf_not_topmost", "tls", kUnhealthy,
     "The server's own certificate is presented, but not first in the chain.",
     "Reorder the chain file on the server: leaf first, then intermediate(s), then the root "
     "(openssl s_client -showcerts shows the order as depths 0, 1, 2...)."},
    {kTlsCertNotPublicCa, "tls_cert_not_public_ca", "tls", kUnhealthy,
     "The server presents its own root, and that root is not one of the well-known CAs.",
     "The certificate comes from a private CA: list that root in the settings' "
     "trusted_root_certificates, or use a certificate from a public CA."},
    {kTlsIntermediateNotPublicCa, "tls_intermediate_not_public_ca", "tls", kUnhealthy,
     "The top intermediate certificate presented by the server is not signed by a well-known CA.",
     "The chain comes from a private CA: list its root in the settings' "
     "trusted_root_certificates; also install the root on the server to make the chain "
     "complete."},
    {kTlsTrustedRootMismatchNoRoot, "tls_trusted_root_mismatch_no_root", "tls", kUnhealthy,
     "None of the configured trusted roots signed the top intermediate the server presents (the "
     "server sends no root).",
     "Get the root that issued the server's intermediate from your private CA and add it to the "
     "settings' trusted_root_certificates."},
    {kTlsTrustedRootMismatch, "tls_trusted_root_mismatch", "tls", kUnhealthy,
     "The root certificate presented by the server is not one of the configured trusted roots.",
     "Export the root the server presents (openssl s_client -showcerts, last certificate) and add "
     "it to trusted_root_certificates, or install the chain that matches the configured root."},
    {kTlsCertVerificationFailed, "tls_cert_verification_failed", "tls", kUnhealthy,
     "The certificate chain could not be verified for another reason; the details carry the TLS "
     "library's error code.",
     "Check the chain with openssl verify -CAfile ROOT -untrusted CHAIN LEAF and the error code "
     "in the details (bad signature, unsupported key, wrong key usage, path length...)."},
    {kNotYetProbed, "not_yet_probed", "unknown", kUnknown,
     "No probe of this server has completed yet.",
     "Wait one probe interval; if this persists, check probes_in_flight and schedule lag: the "
     "exporter may be saturated (max_concurrent_probes)."},
    {kDnsServerUnreachable, "dns_server_unreachable", "dns", kUnknown,
     "The DNS servers did not answer (timeout, REFUSED or SERVFAIL) and no last-known-good "
     "address exists.",
     "Check that the resolvers in dns_servers (or /etc/resolv.conf) are reachable from the "
     "exporter and answer for this zone: dig @SERVER NAME; check network policies for UDP/TCP "
     "53."},
    {kNetworkUnreachable, "network_unreachable", "network", kUnknown,
     "The exporter has no route to the server's address (network or host unreachable).",
     "Check the exporter host's routes (ip route get ADDRESS), VPN/peering and route tables; the "
     "backend itself may be fine, but the exporter cannot reach its network."},
    {kTlsCertRevoked, "tls_cert_revoked", "tls", kUnhealthy,
     "A certificate of the verified chain has been revoked by its CA (OCSP, stapled OCSP or "
     "CRL).",
     "The details name the revoked certificate, when it was revoked and why: install a newly "
     "issued certificate (and, for a revoked intermediate, the CA's new chain) on the server; "
     "check with openssl ocsp -issuer ISSUER -cert CERT -url URL."},
    {kTlsRevocationUnknown, "tls_revocation_unknown", "tls", kUnknown,
     "Revocation checking is on, and no OCSP responder or CRL distribution point of the "
     "certificate could answer (refused, timed out, bad status, unparsable or badly signed).",
     "Check that the exporter can reach the endpoint named in the details over HTTP (proxy, "
     "egress policy, DNS); fetch it by hand with curl; if the CA's endpoints are not reachable "
     "from this network, set check_revocation = false for these settings."},
    {kExporterResourceExhausted, "exporter_resource_exhausted", "exporter", kUnknown,
     "The exporter itself could not probe: it ran out of a local resource (file descriptors, "
     "socket buffers or memory); the backend is not at fault.",
     "Raise the exporter's file descriptor limit (ulimit -n, LimitNOFILE, the container "
     "runtime's nofile) to at least max_concurrent_probes plus the web surface's connections, "
     "or lower max_concurrent_probes; check the exporter's memory limit."},
}};

constexpr bool tableFollowsEnumOrder() {
  for (std::size_t i = 0; i < kReasons.size(); ++i) {
    if (static_cast<std::size_t>(kReasons[i].reason) != i) {
      return false;
    }
  }
  return true;
}
static_assert(tableFollowsEnumOrder(), "describe() indexes kReasons by the enum value");

}  // namespace

const std::array<ReasonInfo, kReasonCount>& allReasons() {
  return kReasons;
}

const ReasonInfo& describe(Reason reason) {
  return kReasons.at(static_cast<std::size_t>(reason));
}

std::optional<Reason> reasonFromName(std::string_view name) {
  for (const auto& info : kReasons) {
    if (info.name == name) {
      return info.reason;
    }
  }
  return std::nullopt;
}

std::string_view stateName(HealthState state) {
  switch (state) {
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
    case HealthState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace bhe
