#include "probe/revocation/revocation_step.h"

#include <ctime>

#include "pki/x509.h"
#include "probe/classify/classify.h"

namespace bhe {
namespace {

std::int64_t unixNow() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

RevocationStep::RevocationStep(Dispatcher& dispatcher, RevocationFetcher& fetcher,
                               std::vector<TrustPathEntry> path, std::optional<StapledOcsp> stapled,
                               std::chrono::milliseconds budget, Done done, ProbeTrace* trace)
    : dispatcher_(dispatcher),
      fetcher_(fetcher),
      stapled_(std::move(stapled)),
      deadline_(dispatcher.now() + budget),
      done_(std::move(done)),
      trace_(trace) {
  // The last entry is the trust anchor: trusted by configuration, never checked.
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    auto check = std::make_unique<Check>();
    check->der = path[i].der;
    for (std::size_t j = i + 1; j < path.size(); ++j) {
      check->ca_path.push_back(path[j].der);
    }
    auto cert = Certificate::parse(check->der);
    check->facts.subject = cert ? cert->subject() : "(unparsable)";
    check->facts.position = path[i].position;
    RevocationEndpoints endpoints = readRevocationEndpoints(check->der);
    check->facts.ocsp_urls = std::move(endpoints.ocsp_urls);
    check->facts.crl_urls = std::move(endpoints.crl_urls);
    check->facts.has_stapled_response = i == 0 && stapled_.has_value();
    check->plan = planSources(check->facts);
    checks_.push_back(std::move(check));
  }
}

RevocationStep::~RevocationStep() = default;

void RevocationStep::start() {
  for (auto& check : checks_) {
    advance(*check);
    if (finished_) {
      return;
    }
  }
  maybeFinish();
}

void RevocationStep::advance(Check& check) {
  while (!check.done) {
    if (check.next >= check.plan.size()) {
      check.done = true;
      break;
    }
    const PlannedSource source = check.plan[check.next++];
    if (source.source == RevocationSource::kStapledOcsp) {
      if (record(check, source, judgeStaple(check), nullptr, nullptr)) {
        check.done = true;
      }
      continue;
    }
    HttpFetchRequest request;
    request.url = source.url;
    if (source.source == RevocationSource::kOcsp) {
      request.post_body = fetcher_.ocspRequest(check.der, check.ca_path.front());
      request.max_bytes = kMaxOcspResponseBytes;
      if (request.post_body.empty()) {
        CheckedAnswer unbuildable;
        unbuildable.answer.failure = SourceFailure::kUnparsable;
        unbuildable.answer.failure_detail = "no OCSP request can be built for this certificate";
        record(check, source, std::move(unbuildable), nullptr, nullptr);
        continue;
      }
    } else {
      request.max_bytes = kMaxCrlBytes;
    }
    if (auto known = fetcher_.keptVerdict(request, check.der)) {
      if (record(check, source, std::move(*known), nullptr, nullptr)) {
        check.done = true;
      }
      continue;
    }
    request.timeout = delayUntil(dispatcher_.now(), deadline_);
    if (request.timeout.count() == 0) {
      CheckedAnswer timed_out;
      timed_out.answer.failure = SourceFailure::kTimeout;
      record(check, source, std::move(timed_out), nullptr, nullptr);
      continue;
    }
    Check* c = &check;
    if (check.waiter) {
      // It may be the waiter whose callback is running right now.
      dispatcher_.deferDelete(std::move(check.waiter));
    }
    check.waiter = fetcher_.fetch(request, [this, c, source, request](const HttpFetchResult& r) {
      onFetched(*c, source, request, r);
    });
    return;  // onFetched goes on
  }
}

CheckedAnswer RevocationStep::judgeStaple(const Check& check) const {
  if (!stapled_->response.empty()) {
    return checkOcspResponse(stapled_->response, check.der, check.ca_path, unixNow());
  }
  CheckedAnswer out;
  if (stapled_->library_revoked) {
    out.answer.outcome = SourceAnswer::Outcome::kRevoked;  // time and reason stay unknown
  } else if (stapled_->library_good) {
    out.answer.outcome = SourceAnswer::Outcome::kGood;
  } else {
    out.answer.failure = SourceFailure::kUnparsable;
  }
  return out;
}

void RevocationStep::onFetched(Check& check, const PlannedSource& source,
                               const HttpFetchRequest& request, const HttpFetchResult& result) {
  CheckedAnswer checked;
  if (!result.ok) {
    checked.answer.failure = result.failure;
    checked.answer.http_status = result.http_status;
    checked.answer.failure_detail = result.detail;
  } else if (source.source == RevocationSource::kOcsp) {
    checked = checkOcspResponse(*result.body, check.der, check.ca_path, unixNow());
  } else {
    checked = checkCrl(*result.body, check.der, check.ca_path.front(), unixNow());
  }
  if (record(check, source, std::move(checked), &request, result.body)) {
    check.done = true;
  } else {
    advance(check);
  }
  maybeFinish();
}

bool RevocationStep::record(Check& check, const PlannedSource& source, CheckedAnswer checked,
                            const HttpFetchRequest* request,
                            const std::shared_ptr<const std::string>& body) {
  SourceAnswer answer = checked.answer;  // `checked` may be kept as it is
  answer.source = source.source;
  answer.endpoint =
      source.source == RevocationSource::kStapledOcsp ? "stapled by the server" : source.url;
  const bool definite = answer.outcome != SourceAnswer::Outcome::kFailed;
  if (request != nullptr) {
    if (definite && body) {
      const std::int64_t now = unixNow();
      const auto lifetime =
          checked.next_update
              ? std::chrono::seconds(std::max<std::int64_t>(0, *checked.next_update - now))
              : std::chrono::seconds(kCurrentWithoutNextUpdate);
      fetcher_.keep(*request, body, dispatcher_.now() + lifetime);
      fetcher_.keepVerdict(*request, check.der, checked);
    } else {
      fetcher_.forget(*request);  // a kept body that no longer answers is fetched anew
    }
  }
  note(trace_, [&] {
    return "revocation of [" + std::to_string(check.facts.position) + "] " + check.facts.subject +
           ": " + describeSourceAnswer(answer);
  });
  check.facts.answers.push_back(std::move(answer));
  return definite;
}

void RevocationStep::maybeFinish() {
  if (finished_) {
    return;
  }
  std::vector<CertificateRevocationFacts> facts;
  for (const auto& check : checks_) {
    if (!check->done) {
      return;
    }
    facts.push_back(check->facts);
  }
  finished_ = true;
  Done done = std::move(done_);
  done(decideRevocation(facts));
}

}  // namespace bhe
