// Fetching OCSP responses and CRLs: plain HTTP/1.1 on the probe loop (POST
// application/ocsp-request for OCSP, GET for CRLs), bounded in time and size, and shared between
// targets: one fetch per (URL, request body) in flight, and an answer kept until the caller says
// it stops being current (its nextUpdate, capped). Failures are never kept: the next probe asks
// again.
//
// The wire is behind the HttpFetcher seam: the exporter's one (HttpOverTcp) connects with
// TcpStream, resolves names through the probes' Resolver and reads with the bounded response
// parser; unit tests put a hand-finished fetcher there, on simulated time.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/dispatcher.h"
#include "probe/resolve/resolver.h"
#include "probe/revocation/revocation_check.h"
#include "probe/revocation/revocation_decision.h"

namespace bhe {

// Named limits: a response is a few KiB, a CRL of a large public CA a few MiB.
inline constexpr std::size_t kMaxOcspResponseBytes = 64 * 1024;
inline constexpr std::size_t kMaxCrlBytes = 8 * 1024 * 1024;
// However far away a nextUpdate is, an answer is asked for again after this.
inline constexpr std::chrono::seconds kMaxRevocationCacheAge{3600};
// How long one shared fetch may take on the wire, whatever the budget of the probe that started
// it: probes that join it later have their own budgets (and timers), so the first one's short
// remainder must not fail the fetch for all of them.
inline constexpr std::chrono::seconds kRevocationFetchTimeout{10};
// Answers kept at most, and their bytes; past either, expired ones go first, then the soonest to
// expire. 20,000 covers a certificate of its own on each of 10,000 targets with room to spare.
inline constexpr std::size_t kMaxKeptRevocationAnswers = 20000;
inline constexpr std::size_t kMaxKeptRevocationBytes = 64 * 1024 * 1024;

struct HttpFetchRequest {
  std::string url;
  std::string post_body;  // empty: GET; else POST application/ocsp-request
  std::size_t max_bytes = kMaxOcspResponseBytes;
  std::chrono::milliseconds timeout{1000};
};

struct HttpFetchResult {
  bool ok = false;  // a 200 response with a body within the limit
  std::shared_ptr<const std::string> body;
  // !ok
  SourceFailure failure = SourceFailure::kTimeout;
  int http_status = 0;
  std::string detail;
};

using HttpFetchDone = std::function<void(const HttpFetchResult&)>;

// Something in flight; destroying it withdraws it (its callback never runs).
class PendingFetch {
 public:
  virtual ~PendingFetch() = default;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  // `done` runs once, on a later loop turn or from a callback, never from inside fetch().
  virtual std::unique_ptr<PendingFetch> fetch(const HttpFetchRequest& request,
                                              HttpFetchDone done) = 0;
};

// The exporter's wire: http://host[:port]/path over TcpStream on `loop`.
class HttpOverTcp final : public HttpFetcher {
 public:
  HttpOverTcp(uv_loop_t* loop, Dispatcher& dispatcher, Resolver& resolver)
      : loop_(loop), dispatcher_(dispatcher), resolver_(resolver) {}
  std::unique_ptr<PendingFetch> fetch(const HttpFetchRequest& request, HttpFetchDone done) override;

 private:
  uv_loop_t* loop_;
  Dispatcher& dispatcher_;
  Resolver& resolver_;
};

// "http://host:port/path" split; nothing for anything but http:// (https, ldap, garbage).
struct HttpUrl {
  std::string host;  // without brackets
  int port = 80;
  std::string target;  // "/path?query", at least "/"
  std::string host_header;
};
std::optional<HttpUrl> parseHttpUrl(std::string_view url);

// The cache and the sharing of fetches; one per process (the engine's), on the probe loop.
class RevocationFetcher {
 public:
  RevocationFetcher(Dispatcher& dispatcher, std::unique_ptr<HttpFetcher> wire);
  ~RevocationFetcher();
  RevocationFetcher(const RevocationFetcher&) = delete;
  RevocationFetcher& operator=(const RevocationFetcher&) = delete;

  class Waiter;
  // A kept answer is handed over on a later loop turn; otherwise the fetch of the same request
  // already in flight is joined, or a new one started. Each waiter has its own `timeout`.
  std::unique_ptr<Waiter> fetch(const HttpFetchRequest& request, HttpFetchDone done);

  // Keeps a fetched body for requests equal to `request` until `current_until` (monotonic),
  // at most kMaxRevocationCacheAge from now (and within kMaxKeptRevocationAnswers/Bytes).
  void keep(const HttpFetchRequest& request, std::shared_ptr<const std::string> body,
            MonoTime current_until);
  // Drops a kept body that turned out not to answer (badly signed, stale, ...).
  void forget(const HttpFetchRequest& request);

  // What a kept body said about one certificate, so that later probes skip parsing and
  // verifying it again (about a millisecond per certificate); kept as long as the body.
  void keepVerdict(const HttpFetchRequest& request, const Der& certificate,
                   const CheckedAnswer& verdict);
  std::optional<CheckedAnswer> keptVerdict(const HttpFetchRequest& request,
                                           const Der& certificate) const;
  // Ends every fetch in flight (shutdown); their waiters hear nothing.
  void cancelAll();

  // The OCSP request for `certificate` issued by `issuer` (buildOcspRequest), built once: it is
  // the key of the kept answers, looked up on every probe.
  const std::string& ocspRequest(const Der& certificate, const Der& issuer);

  std::size_t keptAnswers() const { return kept_.size(); }
  std::size_t keptBytes() const { return kept_bytes_; }
  std::size_t fetchesInFlight() const { return in_flight_.size(); }
  std::uint64_t fetchesStarted() const { return fetches_started_; }

 private:
  using Key = std::pair<std::string, std::string>;  // url, post body
  struct Kept {
    std::shared_ptr<const std::string> body;
    MonoTime until;
    std::map<Der, CheckedAnswer> verdicts;  // by certificate (DER)
  };
  struct InFlight {
    std::unique_ptr<PendingFetch> fetch;
    std::list<Waiter*> waiters;
  };
  void onFetched(const Key& key, const HttpFetchResult& result);
  void withdraw(Waiter* waiter);
  void makeRoomToKeep(std::size_t bytes);
  void eraseKept(std::map<Key, Kept>::iterator it);

  Dispatcher& dispatcher_;
  std::unique_ptr<HttpFetcher> wire_;
  std::map<Key, Kept> kept_;
  std::map<Key, InFlight> in_flight_;
  std::map<std::pair<Der, Der>, std::string> ocsp_requests_;
  std::uint64_t fetches_started_ = 0;
  std::size_t kept_bytes_ = 0;  // of the kept bodies
  // Alive while this object is: tasks posted for kept answers check it first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class RevocationFetcher::Waiter {
 public:
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

 private:
  friend class RevocationFetcher;
  Waiter(RevocationFetcher& owner, Key key, HttpFetchDone done);
  void answer(const HttpFetchResult& result);

  RevocationFetcher& owner_;
  Key key_;
  HttpFetchDone done_;
  std::unique_ptr<Timer> timeout_;
  bool joined_ = false;  // on an in-flight fetch's list
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bhe
