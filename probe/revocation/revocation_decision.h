// The revocation verdict on a verified trust path, as a pure function of typed facts: per
// certificate of the path (the trust anchor itself is never checked: it is trusted by
// configuration, not by a CA), which revocation sources it names and what each one answered.
// No I/O and no wolfSSL here; revocation_check.h turns responses into answers, the revocation
// step fetches them, classify.h words the verdict.
//
// Per certificate, the sources are consulted in this order and the first definite answer
// (good or revoked) decides:
//   1. a stapled OCSP response (the leaf only: what the server sent in the handshake);
//   2. OCSP at each responder named in the certificate's AIA, in certificate order;
//   3. the CRL at each distribution point, in certificate order.
// So when OCSP fails and the certificate also names a CRL, the CRL decides. A certificate that
// names no source at all passes ("no revocation information"); one whose every source failed
// is unknown.
//
// Over the path: a revoked certificate anywhere wins (the first on the path, leaf first), then
// an unknown one; otherwise the path is fine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bhe {

enum class RevocationSource { kStapledOcsp, kOcsp, kCrl };

// RFC 5280 CRLReason (also OCSP's revocationReason).
enum class RevocationReasonCode {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

// How a source failed to answer.
enum class SourceFailure {
  kRefused,          // connection refused or reset
  kUnreachable,      // no route, name not resolvable, or another connect error (detail says)
  kTimeout,          // no complete answer within the probe's remaining time
  kHttpStatus,       // answered with a non-200 HTTP status (http_status)
  kTooLarge,         // the answer exceeded the size limit
  kInvalidHttp,      // not an HTTP response, or the connection broke before its end
  kUnparsable,       // the body is not a DER OCSP response / CRL
  kResponderStatus,  // an OCSP responseStatus other than successful (detail: its name)
  kBadSignature,     // not signed by the certificate's issuer (or a responder it authorized)
  kNoStatus,         // the response says nothing (or "unknown") about this certificate
  kStale,            // the response or CRL is past its nextUpdate
  kUnsupportedUrl,   // not an http:// URL (https, ldap, ...)
};

struct SourceAnswer {
  enum class Outcome { kGood, kRevoked, kFailed };
  RevocationSource source = RevocationSource::kOcsp;
  std::string endpoint;  // the URL; "stapled by the server" for a staple
  Outcome outcome = Outcome::kFailed;
  // kRevoked
  std::optional<std::int64_t> revoked_at;  // unix seconds
  std::optional<RevocationReasonCode> reason_code;
  // kFailed
  SourceFailure failure = SourceFailure::kUnparsable;
  int http_status = 0;
  std::string failure_detail;  // e.g. "connection refused (ECONNREFUSED)", "tryLater"
};

// One certificate of the verified path and what its sources answered.
struct CertificateRevocationFacts {
  std::string subject;
  int position = 0;  // in the presented chain
  bool has_stapled_response = false;
  std::vector<std::string> ocsp_urls;
  std::vector<std::string> crl_urls;
  // Answers in the order consulted (see above); sources not consulted have none.
  std::vector<SourceAnswer> answers;
};

// The status of one certificate after the decision.
struct CertificateRevocationStatus {
  enum class State { kGood, kRevoked, kUnknown, kNoInformation };
  std::string subject;
  int position = 0;
  State state = State::kNoInformation;
  // kGood / kRevoked: the answer that decided; kUnknown: every failed answer.
  std::vector<SourceAnswer> answers;
};

struct RevocationVerdict {
  enum class Kind { kOk, kRevoked, kUnknown };
  Kind kind = Kind::kOk;
  std::vector<CertificateRevocationStatus> certificates;  // path order, leaf first
  // kRevoked / kUnknown: the certificate (index into `certificates`) that decided.
  std::size_t deciding = 0;
};

// The order in which a certificate's sources are consulted (stapled, OCSP URLs, CRL URLs),
// for the step that fetches them.
struct PlannedSource {
  RevocationSource source;
  std::string url;  // empty for the staple
};
std::vector<PlannedSource> planSources(const CertificateRevocationFacts& facts);

RevocationVerdict decideRevocation(std::span<const CertificateRevocationFacts> path);

// "keyCompromise" as RFC 5280 spells it; "reason N" for codes it does not define.
std::string revocationReasonName(RevocationReasonCode code);
std::string revocationSourceName(RevocationSource source);  // "stapled OCSP", "OCSP", "CRL"
// "good (OCSP)", "revoked (CRL)", "unknown", "no revocation information"
std::string describeRevocationState(const CertificateRevocationStatus& status);

}  // namespace bhe
