// The revocation step of one HTTPS probe: after the chain verdict, before HTTP. Every certificate
// of the verified path except the trust anchor is checked at once; each one's sources are tried
// in the order of revocation_decision.h (stapled OCSP, OCSP responders, CRLs) until one answers.
// Fetches go through the process's RevocationFetcher (shared, cached) and are bounded by the
// budget the pipeline gives: what has not answered when it runs out counts as a timeout, and the
// verdict is computed from what did answer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/dispatcher.h"
#include "probe/probe_trace.h"
#include "probe/revocation/revocation_check.h"
#include "probe/revocation/revocation_decision.h"
#include "probe/revocation/revocation_fetcher.h"
#include "probe/tls/chain_analysis.h"

namespace bhe {

// An answer without a nextUpdate is asked for again after this.
inline constexpr std::chrono::seconds kCurrentWithoutNextUpdate{300};

// What the server stapled for the leaf, as the TLS client saw it.
struct StapledOcsp {
  std::string response;  // DER OCSPResponse; empty when the TLS library did not hand it over
  // Without the bytes, what wolfSSL concluded from them in the handshake.
  bool library_good = false;
  bool library_revoked = false;
};

class RevocationStep {
 public:
  using Done = std::function<void(const RevocationVerdict& verdict)>;

  // `path`: the verified path, leaf first, the trust anchor last (ChainVerdict::trusted_path);
  // `subjects`: the subject of each entry, for the verdict. `done` runs once, possibly before
  // start() returns (nothing to fetch), unless the step is destroyed first.
  RevocationStep(Dispatcher& dispatcher, RevocationFetcher& fetcher,
                 std::vector<TrustPathEntry> path, std::optional<StapledOcsp> stapled,
                 std::chrono::milliseconds budget, Done done, ProbeTrace* trace = nullptr);
  ~RevocationStep();
  RevocationStep(const RevocationStep&) = delete;
  RevocationStep& operator=(const RevocationStep&) = delete;

  void start();

 private:
  struct Check {
    CertificateRevocationFacts facts;
    Der der;
    std::vector<Der> ca_path;  // issuer first, up to the anchor
    std::vector<PlannedSource> plan;
    std::size_t next = 0;
    bool done = false;
    std::unique_ptr<RevocationFetcher::Waiter> waiter;
  };

  void advance(Check& check);
  CheckedAnswer judgeStaple(const Check& check) const;
  void onFetched(Check& check, const PlannedSource& source, const HttpFetchRequest& request,
                 const HttpFetchResult& result);
  bool record(Check& check, const PlannedSource& source, CheckedAnswer checked,
              const HttpFetchRequest* request, const std::shared_ptr<const std::string>& body);
  void maybeFinish();

  Dispatcher& dispatcher_;
  RevocationFetcher& fetcher_;
  std::optional<StapledOcsp> stapled_;
  MonoTime deadline_;
  Done done_;
  ProbeTrace* trace_;  // /probe?debug=true: one line per source consulted
  std::vector<std::unique_ptr<Check>> checks_;
  bool finished_ = false;
};

}  // namespace bhe
