#include "probe/revocation/revocation_decision.h"

namespace bhe {
namespace {

using State = CertificateRevocationStatus::State;

CertificateRevocationStatus decideOne(const CertificateRevocationFacts& facts) {
  CertificateRevocationStatus status;
  status.subject = facts.subject;
  status.position = facts.position;
  for (const SourceAnswer& answer : facts.answers) {
    if (answer.outcome == SourceAnswer::Outcome::kFailed) {
      status.answers.push_back(answer);
      continue;
    }
    status.state = answer.outcome == SourceAnswer::Outcome::kGood ? State::kGood : State::kRevoked;
    status.answers = {answer};
    return status;
  }
  const bool names_sources =
      facts.has_stapled_response || !facts.ocsp_urls.empty() || !facts.crl_urls.empty();
  status.state = names_sources ? State::kUnknown : State::kNoInformation;
  return status;
}

}  // namespace

std::vector<PlannedSource> planSources(const CertificateRevocationFacts& facts) {
  std::vector<PlannedSource> plan;
  if (facts.has_stapled_response) {
    plan.push_back({RevocationSource::kStapledOcsp, {}});
  }
  for (const auto& url : facts.ocsp_urls) {
    plan.push_back({RevocationSource::kOcsp, url});
  }
  for (const auto& url : facts.crl_urls) {
    plan.push_back({RevocationSource::kCrl, url});
  }
  return plan;
}

RevocationVerdict decideRevocation(std::span<const CertificateRevocationFacts> path) {
  RevocationVerdict verdict;
  std::optional<std::size_t> first_revoked;
  std::optional<std::size_t> first_unknown;
  for (const auto& facts : path) {
    verdict.certificates.push_back(decideOne(facts));
    const std::size_t i = verdict.certificates.size() - 1;
    const State state = verdict.certificates.back().state;
    if (state == State::kRevoked && !first_revoked) {
      first_revoked = i;
    } else if (state == State::kUnknown && !first_unknown) {
      first_unknown = i;
    }
  }
  if (first_revoked) {
    verdict.kind = RevocationVerdict::Kind::kRevoked;
    verdict.deciding = *first_revoked;
  } else if (first_unknown) {
    verdict.kind = RevocationVerdict::Kind::kUnknown;
    verdict.deciding = *first_unknown;
  }
  return verdict;
}

std::string revocationReasonName(RevocationReasonCode code) {
  switch (code) {
    case RevocationReasonCode::kUnspecified:
      return "unspecified";
    case RevocationReasonCode::kKeyCompromise:
      return "keyCompromise";
    case RevocationReasonCode::kCaCompromise:
      return "cACompromise";
    case RevocationReasonCode::kAffiliationChanged:
      return "affiliationChanged";
    case RevocationReasonCode::kSuperseded:
      return "superseded";
    case RevocationReasonCode::kCessationOfOperation:
      return "cessationOfOperation";
    case RevocationReasonCode::kCertificateHold:
      return "certificateHold";
    case RevocationReasonCode::kRemoveFromCrl:
      return "removeFromCRL";
    case RevocationReasonCode::kPrivilegeWithdrawn:
      return "privilegeWithdrawn";
    case RevocationReasonCode::kAaCompromise:
      return "aACompromise";
  }
  return "reason " + std::to_string(static_cast<int>(code));
}

std::string revocationSourceName(RevocationSource source) {
  switch (source) {
    case RevocationSource::kStapledOcsp:
      return "stapled OCSP";
    case RevocationSource::kOcsp:
      return "OCSP";
    case RevocationSource::kCrl:
      return "CRL";
  }
  return "OCSP";
}

std::string describeRevocationState(const CertificateRevocationStatus& status) {
  switch (status.state) {
    case State::kGood:
      return "good (" + revocationSourceName(status.answers.front().source) + ")";
    case State::kRevoked:
      return "revoked (" + revocationSourceName(status.answers.front().source) + ")";
    case State::kUnknown:
      return "unknown";
    case State::kNoInformation:
      return "no revocation information";
  }
  return "unknown";
}

}  // namespace bhe
