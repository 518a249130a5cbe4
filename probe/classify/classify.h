// Pure classification of what a probe phase reports into a reason and the human details string.
// No I/O: the pipeline hands in the typed facts (status codes, errno values, stream ends, TLS
// handshake failures, chain verdicts). Every Failure a probe ends with is made here, and so is
// the details text of a successful probe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "probe/classify/reason.h"
#include "probe/connect/stream.h"
#include "probe/http/http_phase.h"
#include "probe/probe_result.h"
#include "probe/resolve/resolve_phase.h"
#include "probe/revocation/revocation_decision.h"
#include "probe/tls/chain_analysis.h"
#include "probe/tls/tls_stream.h"

namespace bhe {

struct Failure {
  Reason reason;
  std::string details;
};

enum class ProbePhase { kDns, kConnect, kTls, kHttp };

// c-ares status of a failed lookup (ARES_E*). NXDOMAIN and "no address" are authoritative
// answers (dns_resolution_error); timeouts, refusals, SERVFAIL and unreachable resolvers mean
// the exporter could not learn anything (dns_server_unreachable). `socket_error` (a libuv error,
// DnsAnswer::socket_error) says that the query never left: the exporter could not open a socket
// (exporter_resource_exhausted for descriptors, buffers and memory).
Failure classifyDnsFailure(int ares_status, std::string_view name, std::string_view servers,
                           int socket_error = 0);

// The resolve phase found nothing to probe: the lookup failed (and nothing is known), it did not
// answer within the probe timeout, or the name has no address of the configured families.
Failure classifyUnresolved(const ResolveOutcome& outcome, std::string_view name,
                           const AddressFamilies& families, std::string_view timeout_text);

// libuv error (negative errno) of a failed TCP connect. The exporter's own resource errors
// (EMFILE, ENFILE, ENOBUFS, ENOMEM) are exporter_resource_exhausted, never the backend's fault.
Failure classifyConnectFailure(int uv_error, std::string_view address);

// The probe timeout fired while `phase` was still running.
Failure classifyTimeout(ProbePhase phase, std::string_view timeout_text, std::string_view address);

// The connection broke (reset, EOF, read error) after connect, before a complete response.
Failure classifyBrokenResponse(std::string_view what, std::size_t bytes_received);

// The response parser rejected the bytes.
Failure classifyInvalidResponse(std::string_view parser_error, std::size_t bytes_received);

// The stream ended (reset, EOF, read or TLS error) after connect, before a complete response.
Failure classifyStreamEnd(const StreamEnd& end, std::size_t bytes_received);

// The TLS handshake did not complete.
Failure classifyTlsHandshakeFailure(const TlsHandshakeFailure& failure);

// An HTTPS target whose backend settings have no usable TLS context (set-up failed at load).
Failure classifyTlsUnavailable();

// The chain analyser's verdict on a failed chain.
Failure classifyChainVerdict(const ChainVerdict& verdict);

// Revocation is checked only on an established trust path, and only when its outcome can still
// matter: the chain verdict is fine, or its reason comes after tls_cert_revoked in the
// precedence order (tls_cn_mismatch, tls_cert_verification_failed). Every chain-structure,
// expiry and trust reason comes first and skips revocation.
bool revocationApplies(const ChainVerdict& verdict);

// The probe's TLS outcome once revocation was checked (revocationApplies() held): nothing when
// the TLS part passes. A revoked certificate wins over the chain's tls_cn_mismatch /
// tls_cert_verification_failed; those win over tls_revocation_unknown (a definite failure beats
// an unknown one).
std::optional<Failure> classifyRevocation(const ChainVerdict& chain,
                                          const RevocationVerdict& revocation);

// "revocation: [0] good (OCSP); [1] no revocation information" for a healthy probe's details.
std::string describeRevocation(const RevocationVerdict& revocation);

// One view per checked certificate, for the chain view of the JSON and the page.
std::vector<CertificateRevocationView> revocationViews(const RevocationVerdict& revocation);

// "OCSP http://ocsp.example/: connection refused (ECONNREFUSED)".
std::string describeSourceAnswer(const SourceAnswer& answer);

// The probe was ended by the exporter (shutdown).
Failure classifyCancelled();

bool statusAccepted(int status, const std::vector<StatusRange>& accepted);

// Status first, then the body (README: "the status code is checked before the body"). Returns
// nothing when the response matches.
std::optional<Failure> classifyResponse(int status, std::string_view body, const ProbeMatch& match);

// The HTTP phase's outcome; nothing when the response matches.
std::optional<Failure> classifyHttpOutcome(const HttpOutcome& outcome, const ProbeMatch& match);

// The details of a successful probe: "Received:200 from 10.0.0.5:443 over TLSv1.3; verified:
// ...; chain: ..." (the TLS part only for HTTPS).
std::string describeSuccess(int status, std::string_view peer, const TlsObservation* tls,
                            const ChainVerdict* verdict,
                            const RevocationVerdict* revocation = nullptr);

// "200-399,404" as Azure prints the expected codes.
std::string formatStatusRanges(const std::vector<StatusRange>& ranges);

}  // namespace bhe
