#include "probe/classify/classify.h"

#include "probe/probe_result.h"

#include <ares.h>
#include <uv.h>

#include "common/time_format.h"

namespace bhe {

namespace {

std::string_view aresStatusName(int status) {
  switch (status) {
    case ARES_ENODATA:
      return "NODATA (the name has no address record)";
    case ARES_ENOTFOUND:
      return "NXDOMAIN (the name does not exist)";
    case ARES_ESERVFAIL:
      return "SERVFAIL";
    case ARES_EREFUSED:
      return "REFUSED";
    case ARES_ETIMEOUT:
      return "no answer (timeout)";
    case ARES_ECONNREFUSED:
      return "could not contact the DNS servers";
    case ARES_EFORMERR:
      return "FORMERR";
    case ARES_EBADRESP:
      return "malformed answer";
    case ARES_EBADNAME:
      return "invalid name";
    case ARES_ENOMEM:
      return "out of memory";
    case ARES_EDESTRUCTION:
      return "resolver shut down";
    default:
      return "lookup failed";
  }
}

// What the exporter lacks when a system call fails with `uv_error`, for the errors that are the
// exporter's (or its host's) and never the peer's; nothing for any other error.
std::optional<std::string> localResourceShortage(int uv_error) {
  switch (uv_error) {
    case UV_EMFILE:
      return "the exporter is out of file descriptors (EMFILE, too many open files): it needs "
             "one per probe in flight plus the web surface's connections; raise its limit "
             "(LimitNOFILE=, ulimit -n, --ulimit nofile=) or lower max_concurrent_probes";
    case UV_ENFILE:
      return "the exporter's host is out of file descriptors (ENFILE, the system-wide table is "
             "full): raise fs.file-max or find the process that holds them";
    case UV_ENOBUFS:
      return "the exporter's host is out of socket buffer space (ENOBUFS): check the kernel's "
             "socket memory (net.core.*mem*, net.ipv4.tcp_mem) and the exporter's memory limit";
    case UV_ENOMEM:
      return "the exporter is out of memory (ENOMEM): check its memory limit";
    default:
      return std::nullopt;
  }
}

}  // namespace

Failure classifyDnsFailure(int ares_status, std::string_view name, std::string_view servers,
                           int socket_error) {
  std::string via = servers.empty() ? "the system resolvers" : std::string(servers);
  if (auto shortage = localResourceShortage(socket_error)) {
    return {Reason::kExporterResourceExhausted, "Lookup of " + std::string(name) + " via " + via +
                                                    " not sent: " + *shortage +
                                                    "; the DNS servers are not at fault"};
  }
  std::string details = "Lookup of " + std::string(name) + " via " + via + ": " +
                        std::string(aresStatusName(ares_status)) + " [" +
                        ares_strerror(ares_status) + "]";
  switch (ares_status) {
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
    case ARES_EBADNAME:
      return {Reason::kDnsResolutionError, details};
    default:
      return {Reason::kDnsServerUnreachable, details};
  }
}

Failure classifyUnresolved(const ResolveOutcome& outcome, std::string_view name,
                           const AddressFamilies& families, std::string_view timeout_text) {
  switch (outcome.kind) {
    case ResolveOutcome::Kind::kTimedOut:
      return classifyTimeout(ProbePhase::kDns, timeout_text, "");
    case ResolveOutcome::Kind::kNoneOfFamilies: {
      std::string via = outcome.servers.empty() ? "the system resolvers" : outcome.servers;
      return {Reason::kDnsResolutionError,
              "Lookup of " + std::string(name) + " via " + via + ": no " +
                  (families.ipv4 ? "IPv4" : "IPv6") + " address (address_families = [\"" +
                  (families.ipv4 ? "ipv4" : "ipv6") + "\"]); the name has only " +
                  (families.ipv4 ? "IPv6" : "IPv4") + " addresses"};
    }
    case ResolveOutcome::Kind::kFailed:
    case ResolveOutcome::Kind::kAddresses:
      break;
  }
  return classifyDnsFailure(outcome.status, name, outcome.servers, outcome.socket_error);
}

Failure classifyConnectFailure(int uv_error, std::string_view address) {
  if (auto shortage = localResourceShortage(uv_error)) {
    return {Reason::kExporterResourceExhausted, "Connect to " + std::string(address) + " failed: " +
                                                    *shortage + "; the backend is not at fault"};
  }
  std::string details = "Connect to " + std::string(address) + " failed: " + uv_strerror(uv_error) +
                        " (" + uv_err_name(uv_error) + ")";
  switch (uv_error) {
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
      return {Reason::kNetworkUnreachable, details};
    default:
      return {Reason::kTcpConnectError, details};
  }
}

Failure classifyTimeout(ProbePhase phase, std::string_view timeout_text, std::string_view address) {
  std::string limit(timeout_text);
  switch (phase) {
    case ProbePhase::kDns:
      return {Reason::kDnsServerUnreachable,
              "DNS lookup still unanswered when the probe timeout (" + limit + ") expired"};
    case ProbePhase::kConnect:
      return {Reason::kTcpConnectError, "Connect to " + std::string(address) +
                                            " still pending when the probe timeout (" + limit +
                                            ") expired (packets dropped?)"};
    case ProbePhase::kTls:
      return {Reason::kBackendTimeout,
              "TLS handshake not finished within the probe timeout (" + limit + ")"};
    case ProbePhase::kHttp:
      return {Reason::kBackendTimeout,
              "No complete HTTP response within the probe timeout (" + limit + ")"};
  }
  return {Reason::kBackendTimeout, "probe timed out"};
}

Failure classifyBrokenResponse(std::string_view what, std::size_t bytes_received) {
  return {Reason::kHttpInvalidResponse, std::string(what) + " after " +
                                            std::to_string(bytes_received) +
                                            " bytes, before a complete HTTP response"};
}

Failure classifyInvalidResponse(std::string_view parser_error, std::size_t bytes_received) {
  return {Reason::kHttpInvalidResponse, "Not a valid HTTP response (" + std::string(parser_error) +
                                            ") after " + std::to_string(bytes_received) + " bytes"};
}

std::string formatStatusRanges(const std::vector<StatusRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-' + std::to_string(r.last);
    }
  }
  return out;
}

Failure classifyStreamEnd(const StreamEnd& end, std::size_t bytes_received) {
  switch (end.kind) {
    case StreamEnd::Kind::kEof:
      return classifyBrokenResponse("Connection closed by the backend", bytes_received);
    case StreamEnd::Kind::kReset:
      return classifyBrokenResponse("Connection reset by the backend", bytes_received);
    case StreamEnd::Kind::kReadError:
      if (auto shortage = localResourceShortage(end.uv_error)) {
        return {Reason::kExporterResourceExhausted,
                "Reading the response failed: " + *shortage + "; the backend is not at fault"};
      }
      return classifyBrokenResponse(std::string("Read failed: ") + uv_strerror(end.uv_error),
                                    bytes_received);
    case StreamEnd::Kind::kWriteError:
      if (auto shortage = localResourceShortage(end.uv_error)) {
        return {Reason::kExporterResourceExhausted,
                "Sending the request failed: " + *shortage + "; the backend is not at fault"};
      }
      return classifyBrokenResponse(
          std::string("Sending the request failed: ") + uv_strerror(end.uv_error), bytes_received);
    case StreamEnd::Kind::kTlsError:
      return classifyBrokenResponse("TLS error after the handshake: " + end.tls_text,
                                    bytes_received);
    case StreamEnd::Kind::kTlsWriteError:
      return classifyBrokenResponse("TLS write failed: " + end.tls_text, 0);
    case StreamEnd::Kind::kTlsOverflow:
      return {Reason::kHttpInvalidResponse, end.tls_text};
  }
  return classifyBrokenResponse("Connection broken", bytes_received);
}

// What a fatal alert from a server says about client certificates, in plain words. Without a
// configured certificate: the server asked for one (or its alert says it requires one). With
// one: the alerts a server sends about the certificates it received (it receives no other).
std::string clientCertificateWords(int alert, bool requested, bool presented) {
  constexpr int kCertificateRequired = 116;
  if (alert < 0) {
    return "";
  }
  if (!presented) {
    if (!requested && alert != kCertificateRequired) {
      return "";
    }
    return "the server requires a client certificate, and none is configured for these backend "
           "settings (client_certificate, client_key): ";
  }
  switch (alert) {
    case 42:   // bad_certificate
    case 43:   // unsupported_certificate
    case 44:   // certificate_revoked
    case 45:   // certificate_expired
    case 46:   // certificate_unknown
    case 48:   // unknown_ca
    case 49:   // access_denied
    case 116:  // certificate_required
      return "the server rejected the client certificate: alert " +
             std::string(tlsAlertName(alert)) + " (" + std::to_string(alert) + "): ";
    default:
      return "";
  }
}

Failure classifyTlsHandshakeFailure(const TlsHandshakeFailure& failure) {
  switch (failure.kind) {
    case TlsHandshakeFailure::Kind::kLibrary:
      return {Reason::kTlsHandshakeError,
              clientCertificateWords(failure.alert, failure.client_certificate_requested,
                                     failure.client_certificate_presented) +
                  failure.text + " (wolfSSL error " + std::to_string(failure.code) + ")"};
    case TlsHandshakeFailure::Kind::kOverflow:
      return {Reason::kTlsHandshakeError, failure.text};
    case TlsHandshakeFailure::Kind::kTransportBroke:
      if (auto shortage = localResourceShortage(failure.uv_error)) {
        return {Reason::kExporterResourceExhausted,
                "The TLS handshake failed: " + *shortage + "; the backend is not at fault"};
      }
      return {Reason::kTlsHandshakeError,
              "Connection reset by the backend during the TLS handshake after " +
                  std::to_string(failure.bytes_received) + " bytes (" +
                  uv_err_name(failure.uv_error) + ")"};
    case TlsHandshakeFailure::Kind::kWriteFailed:
      if (auto shortage = localResourceShortage(failure.uv_error)) {
        return {Reason::kExporterResourceExhausted,
                "Sending the TLS handshake failed: " + *shortage + "; the backend is not at fault"};
      }
      return classifyBrokenResponse(
          std::string("Sending the request failed: ") + uv_strerror(failure.uv_error), 0);
  }
  return {Reason::kTlsHandshakeError, failure.text};
}

Failure classifyTlsUnavailable() {
  return {Reason::kTlsHandshakeError,
          "TLS could not be set up for these backend settings (see the exporter log)"};
}

Failure classifyChainVerdict(const ChainVerdict& verdict) {
  return {verdict.reason.value_or(Reason::kTlsCertVerificationFailed), verdict.details};
}

bool revocationApplies(const ChainVerdict& verdict) {
  if (verdict.trusted_path.empty()) {
    return false;
  }
  return verdict.ok() || verdict.reason == Reason::kTlsCnMismatch ||
         verdict.reason == Reason::kTlsCertVerificationFailed;
}

namespace {

std::string certificateAt(const CertificateRevocationStatus& c) {
  return "the certificate at position " + std::to_string(c.position) + " (" + c.subject + ")";
}

std::string sourceFailureText(const SourceAnswer& a) {
  const std::string detail = a.failure_detail.empty() ? "" : " (" + a.failure_detail + ")";
  switch (a.failure) {
    case SourceFailure::kRefused:
      return "connection refused" + detail;
    case SourceFailure::kUnreachable:
      return "not reachable" + detail;
    case SourceFailure::kTimeout:
      return "no complete answer within the probe's remaining time (timeout)";
    case SourceFailure::kHttpStatus:
      return "HTTP status " + std::to_string(a.http_status);
    case SourceFailure::kTooLarge:
      return "answer larger than the limit" + detail;
    case SourceFailure::kInvalidHttp:
      return "not a valid HTTP response" + detail;
    case SourceFailure::kUnparsable:
      return "unparsable response" + detail;
    case SourceFailure::kResponderStatus:
      return "the responder answered " + a.failure_detail;
    case SourceFailure::kBadSignature:
      return "badly signed response" + detail;
    case SourceFailure::kNoStatus:
      return "no status for this certificate" + detail;
    case SourceFailure::kStale:
      return "out-of-date response" + detail;
    case SourceFailure::kUnsupportedUrl:
      return "unsupported URL (only http:// is fetched)";
  }
  return "failed" + detail;
}

}  // namespace

std::string describeSourceAnswer(const SourceAnswer& a) {
  std::string where = revocationSourceName(a.source);
  if (a.source != RevocationSource::kStapledOcsp) {
    where += " " + a.endpoint;
  }
  switch (a.outcome) {
    case SourceAnswer::Outcome::kGood:
      return where + ": good";
    case SourceAnswer::Outcome::kRevoked: {
      std::string out = where + ": revoked";
      out += a.revoked_at ? " at " + formatUtc(*a.revoked_at) : " (revocation time not given)";
      if (a.reason_code) {
        out += ", reason " + revocationReasonName(*a.reason_code) + " (" +
               std::to_string(static_cast<int>(*a.reason_code)) + ")";
      } else {
        out += ", no reason code";
      }
      return out;
    }
    case SourceAnswer::Outcome::kFailed:
      return where + ": " + sourceFailureText(a);
  }
  return where;
}

std::optional<Failure> classifyRevocation(const ChainVerdict& chain,
                                          const RevocationVerdict& revocation) {
  if (revocation.kind == RevocationVerdict::Kind::kRevoked) {
    const CertificateRevocationStatus& c = revocation.certificates.at(revocation.deciding);
    return Failure{Reason::kTlsCertRevoked,
                   certificateAt(c) + " is revoked: " + describeSourceAnswer(c.answers.front())};
  }
  if (!chain.ok()) {
    return classifyChainVerdict(chain);
  }
  if (revocation.kind == RevocationVerdict::Kind::kUnknown) {
    const CertificateRevocationStatus& c = revocation.certificates.at(revocation.deciding);
    std::string tried;
    for (const auto& a : c.answers) {
      tried += (tried.empty() ? "" : "; ") + describeSourceAnswer(a);
    }
    return Failure{Reason::kTlsRevocationUnknown, "the revocation status of " + certificateAt(c) +
                                                      " could not be learned: " + tried};
  }
  return std::nullopt;
}

std::vector<CertificateRevocationView> revocationViews(const RevocationVerdict& revocation) {
  std::vector<CertificateRevocationView> out;
  for (const auto& c : revocation.certificates) {
    CertificateRevocationView view;
    view.position = c.position;
    view.state = describeRevocationState(c);
    for (const auto& a : c.answers) {
      view.details += (view.details.empty() ? "" : "; ") + describeSourceAnswer(a);
    }
    if (c.state == CertificateRevocationStatus::State::kNoInformation) {
      view.details = "the certificate names no OCSP responder and no CRL distribution point";
    }
    out.push_back(std::move(view));
  }
  return out;
}

std::string describeRevocation(const RevocationVerdict& revocation) {
  std::string out;
  for (const auto& c : revocation.certificates) {
    out += (out.empty() ? "" : "; ") + std::string("[") + std::to_string(c.position) + "] " +
           describeRevocationState(c);
  }
  return "revocation: " + (out.empty() ? std::string("nothing to check") : out);
}

Failure classifyCancelled() {
  return {Reason::kBackendTimeout, "Probe cancelled: the exporter is shutting down"};
}

bool statusAccepted(int status, const std::vector<StatusRange>& accepted) {
  for (const auto& range : accepted) {
    if (range.contains(status)) {
      return true;
    }
  }
  return false;
}

std::optional<Failure> classifyHttpOutcome(const HttpOutcome& outcome, const ProbeMatch& match) {
  const HttpResponseParser& response = *outcome.response;
  switch (outcome.kind) {
    case HttpOutcome::Kind::kResponse:
      return classifyResponse(outcome.status, response.body(), match);
    case HttpOutcome::Kind::kStatusRejected:
      return classifyResponse(outcome.status, "", ProbeMatch{match.status_codes, {}});
    case HttpOutcome::Kind::kInvalid:
      return classifyInvalidResponse(response.error(), response.bytesReceived());
    case HttpOutcome::Kind::kBroken:
      // A fatal alert before any byte of the response ends the handshake, whatever the TLS
      // version: with TLS 1.3 a server judges the client certificate only after the client has
      // finished its side, so its refusal arrives as the first record after the handshake.
      if (outcome.end.kind == StreamEnd::Kind::kTlsError && outcome.end.tls_alert >= 0 &&
          response.bytesReceived() == 0) {
        return Failure{
            Reason::kTlsHandshakeError,
            clientCertificateWords(outcome.end.tls_alert, outcome.end.client_certificate_requested,
                                   outcome.end.client_certificate_presented) +
                outcome.end.tls_text};
      }
      return classifyStreamEnd(outcome.end, response.bytesReceived());
  }
  return std::nullopt;
}

std::string describeSuccess(int status, std::string_view peer, const TlsObservation* tls,
                            const ChainVerdict* verdict, const RevocationVerdict* revocation) {
  // Written into one string: this runs for every successful probe.
  std::string details;
  details.reserve(32 + peer.size());
  details += "Received:";
  details += std::to_string(status);
  details += " from ";
  details += peer;
  if (tls != nullptr && verdict != nullptr) {
    details += " over ";
    details += tls->version;
    details += "; ";
    details += verdict->details;
    if (revocation != nullptr) {
      details += "; ";
      details += describeRevocation(*revocation);
    }
    details += "; chain: ";
    details += describeChain(verdict->chain);
  }
  return details;
}

std::optional<Failure> classifyResponse(int status, std::string_view body,
                                        const ProbeMatch& match) {
  if (!statusAccepted(status, match.status_codes)) {
    return Failure{Reason::kHttpStatusMismatch,
                   "Expected:" + formatStatusRanges(match.status_codes) +
                       " Received:" + std::to_string(status)};
  }
  if (match.body && body.find(*match.body) == std::string_view::npos) {
    return Failure{Reason::kHttpBodyMismatch, "Received response body doesn't contain \"" +
                                                  *match.body + "\" (searched " +
                                                  std::to_string(body.size()) + " bytes)"};
  }
  return std::nullopt;
}

}  // namespace bhe
