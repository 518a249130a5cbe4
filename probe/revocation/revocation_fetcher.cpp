#include "probe/revocation/revocation_fetcher.h"

#include <algorithm>

#include "common/host_port.h"
#include "common/ip_address.h"
#include "common/version.h"
#include "probe/connect/tcp_stream.h"
#include "probe/http/http_exchange.h"

namespace bhe {
namespace {

std::string requestBytes(const HttpUrl& url, const std::string& post_body) {
  std::string out = (post_body.empty() ? "GET " : "POST ") + url.target +
                    " HTTP/1.1\r\nHost: " + url.host_header + "\r\nUser-Agent: " + kExporterName +
                    "/" + kBheVersion + "\r\nAccept: */*\r\nConnection: close\r\n";
  if (!post_body.empty()) {
    out += "Content-Type: application/ocsp-request\r\nContent-Length: " +
           std::to_string(post_body.size()) + "\r\n";
  }
  return out + "\r\n" + post_body;
}

HttpFetchResult failed(SourceFailure how, std::string detail = {}, int status = 0) {
  HttpFetchResult r;
  r.failure = how;
  r.detail = std::move(detail);
  r.http_status = status;
  return r;
}

// One fetch: resolve (names only), connect, send, read until the response is complete.
class TcpFetch final : public PendingFetch, private StreamReceiver {
 public:
  TcpFetch(uv_loop_t* loop, Dispatcher& dispatcher, Resolver& resolver, HttpUrl url,
           const HttpFetchRequest& request, HttpFetchDone done)
      : loop_(loop),
        dispatcher_(dispatcher),
        url_(std::move(url)),
        request_(requestBytes(url_, request.post_body)),
        max_bytes_(request.max_bytes),
        parser_(request.max_bytes + 1),  // one byte more than allowed tells "too large"
        done_(std::move(done)),
        deadline_(dispatcher.createTimer([this] { report(failed(SourceFailure::kTimeout)); })),
        alive_(std::make_shared<bool>(true)) {
    deadline_->arm(request.timeout);
    if (isIpLiteral(url_.host)) {
      connect(url_.host);
      return;
    }
    resolve_ = resolver.resolve(
        url_.host, std::chrono::milliseconds(0), [this](const Resolver::Answer& answer) {
          if (!answer.ok()) {
            report(failed(SourceFailure::kUnreachable, "cannot resolve " + url_.host));
            return;
          }
          connect(answer.addresses.front());
        });
  }
  ~TcpFetch() override { *alive_ = false; }

 private:
  void connect(const std::string& address) {
    tcp_ = std::make_unique<TcpStream>(loop_);
    const int rc = tcp_->connect(address, url_.port, [this](int status) { onConnected(status); });
    if (rc != 0) {
      onConnected(rc);
    }
  }

  void onConnected(int status) {
    if (status != 0) {
      const std::string name = uv_err_name(status);
      report(failed(status == UV_ECONNREFUSED || status == UV_ECONNRESET
                        ? SourceFailure::kRefused
                        : SourceFailure::kUnreachable,
                    name));
      return;
    }
    tcp_->read(this);
    tcp_->write(request_);
  }

  void onStreamData(std::string_view bytes) override { judge(parser_.feed(bytes)); }

  void onStreamEnd(const StreamEnd& end) override {
    if (end.kind != StreamEnd::Kind::kEof) {
      report(failed(SourceFailure::kInvalidHttp, "connection broken before the end"));
      return;
    }
    if (parser_.finishAtEof() == HttpResponseParser::Progress::kComplete) {
      judge(HttpResponseParser::Progress::kComplete);
      return;
    }
    report(failed(SourceFailure::kInvalidHttp, "closed before a complete response"));
  }

  void judge(HttpResponseParser::Progress progress) {
    if (progress == HttpResponseParser::Progress::kInvalid) {
      report(failed(SourceFailure::kInvalidHttp, parser_.error()));
      return;
    }
    if (parser_.headersComplete() && parser_.status() != 200) {
      report(failed(SourceFailure::kHttpStatus, {}, parser_.status()));
      return;
    }
    if (parser_.body().size() > max_bytes_) {
      report(failed(SourceFailure::kTooLarge, std::to_string(max_bytes_) + " bytes"));
      return;
    }
    if (progress == HttpResponseParser::Progress::kComplete) {
      HttpFetchResult r;
      r.ok = true;
      r.body = std::make_shared<const std::string>(parser_.body());
      report(std::move(r));
    }
  }

  // Always from a later loop turn: the owner may destroy this fetch in its callback.
  void report(HttpFetchResult result) {
    if (reported_) {
      return;
    }
    reported_ = true;
    deadline_->disarm();
    resolve_.reset();
    dispatcher_.post([alive = std::weak_ptr<bool>(alive_), this, result = std::move(result)] {
      if (alive.expired()) {
        return;
      }
      tcp_.reset();
      HttpFetchDone done = std::move(done_);
      done(result);
    });
  }

  uv_loop_t* loop_;
  Dispatcher& dispatcher_;
  HttpUrl url_;
  std::string request_;
  std::size_t max_bytes_;
  HttpResponseParser parser_;
  HttpFetchDone done_;
  std::unique_ptr<Timer> deadline_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<Resolver::Request> resolve_;
  std::unique_ptr<TcpStream> tcp_;
  bool reported_ = false;
};

// A fetch that failed before it began (a bad URL): reported on a later turn like any other.
class FailedFetch final : public PendingFetch {
 public:
  FailedFetch(Dispatcher& dispatcher, HttpFetchResult result, HttpFetchDone done)
      : alive_(std::make_shared<bool>(true)) {
    dispatcher.post(
        [alive = std::weak_ptr<bool>(alive_), result = std::move(result), done = std::move(done)] {
          if (!alive.expired()) {
            done(result);
          }
        });
  }

 private:
  std::shared_ptr<bool> alive_;
};

}  // namespace

std::optional<HttpUrl> parseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() <= kScheme.size() || url.substr(0, kScheme.size()) != kScheme) {
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') {
    out.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) {
    return std::nullopt;  // credentials in a CA's URL: not something to send anywhere
  }
  HostPortParse parsed = parseHostPort(authority);
  if (!parsed.value || parsed.value->host.empty()) {
    return std::nullopt;
  }
  out.host = parsed.value->host;
  out.port = parsed.value->port.value_or(80);
  out.host_header = std::string(authority);
  return out;
}

std::unique_ptr<PendingFetch> HttpOverTcp::fetch(const HttpFetchRequest& request,
                                                 HttpFetchDone done) {
  auto url = parseHttpUrl(request.url);
  if (!url) {
    return std::make_unique<FailedFetch>(dispatcher_, failed(SourceFailure::kUnsupportedUrl),
                                         std::move(done));
  }
  return std::make_unique<TcpFetch>(loop_, dispatcher_, resolver_, std::move(*url), request,
                                    std::move(done));
}

// --- the cache and the sharing ------------------------------------------------------------------

RevocationFetcher::RevocationFetcher(Dispatcher& dispatcher, std::unique_ptr<HttpFetcher> wire)
    : dispatcher_(dispatcher), wire_(std::move(wire)) {}

RevocationFetcher::~RevocationFetcher() {
  *alive_ = false;
  for (auto& [key, flight] : in_flight_) {
    for (Waiter* w : flight.waiters) {
      w->joined_ = false;
    }
  }
}

RevocationFetcher::Waiter::Waiter(RevocationFetcher& owner, Key key, HttpFetchDone done)
    : owner_(owner), key_(std::move(key)), done_(std::move(done)) {}

RevocationFetcher::Waiter::~Waiter() {
  *alive_ = false;
  if (joined_) {
    owner_.withdraw(this);
  }
}

void RevocationFetcher::Waiter::answer(const HttpFetchResult& result) {
  if (!done_) {
    return;
  }
  if (timeout_) {
    timeout_->disarm();
  }
  HttpFetchDone done = std::move(done_);
  done(result);
}

std::unique_ptr<RevocationFetcher::Waiter> RevocationFetcher::fetch(const HttpFetchRequest& request,
                                                                    HttpFetchDone done) {
  Key key{request.url, request.post_body};
  std::unique_ptr<Waiter> waiter(new Waiter(*this, key, std::move(done)));
  auto kept = kept_.find(key);
  if (kept != kept_.end() && kept->second.until > dispatcher_.now()) {
    HttpFetchResult result;
    result.ok = true;
    result.body = kept->second.body;
    dispatcher_.post([alive = std::weak_ptr<bool>(waiter->alive_), w = waiter.get(), result] {
      if (!alive.expired()) {
        w->answer(result);
      }
    });
    return waiter;
  }
  if (kept != kept_.end()) {
    eraseKept(kept);
  }
  Waiter* w = waiter.get();
  w->timeout_ = dispatcher_.createTimer([this, w] {
    withdraw(w);
    w->answer(failed(SourceFailure::kTimeout));
  });
  w->timeout_->arm(request.timeout);
  w->joined_ = true;
  auto flight = in_flight_.find(key);
  if (flight != in_flight_.end()) {
    flight->second.waiters.push_back(w);
    return waiter;
  }
  InFlight& f = in_flight_[key];
  f.waiters.push_back(w);
  ++fetches_started_;
  HttpFetchRequest on_wire = request;
  on_wire.timeout = std::max<std::chrono::milliseconds>(request.timeout, kRevocationFetchTimeout);
  f.fetch = wire_->fetch(on_wire, [this, key](const HttpFetchResult& r) { onFetched(key, r); });
  return waiter;
}

void RevocationFetcher::onFetched(const Key& key, const HttpFetchResult& result) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) {
    return;
  }
  std::list<Waiter*> waiters = std::move(it->second.waiters);
  // The fetch object is inside its own callback: free it on a later turn.
  dispatcher_.deferDelete(std::move(it->second.fetch));
  in_flight_.erase(it);
  for (Waiter* w : waiters) {
    w->joined_ = false;
  }
  for (Waiter* w : waiters) {
    w->answer(result);
  }
}

void RevocationFetcher::withdraw(Waiter* waiter) {
  waiter->joined_ = false;
  auto it = in_flight_.find(waiter->key_);
  if (it == in_flight_.end()) {
    return;
  }
  it->second.waiters.remove(waiter);
  // The fetch goes on without waiters, bounded by kRevocationFetchTimeout: a probe that asks for
  // the same answer meanwhile joins it instead of starting another. An answer nobody waits for
  // any more is dropped (only a waiter checks an answer before it is kept).
}

void RevocationFetcher::keep(const HttpFetchRequest& request,
                             std::shared_ptr<const std::string> body, MonoTime current_until) {
  const MonoTime cap = dispatcher_.now() + kMaxRevocationCacheAge;
  const MonoTime until = std::min(current_until, cap);
  if (until <= dispatcher_.now()) {
    return;
  }
  const std::size_t bytes = body ? body->size() : 0;
  Key key{request.url, request.post_body};
  if (auto it = kept_.find(key); it != kept_.end() && it->second.body != body) {
    eraseKept(it);  // a new body: what the old one said no longer counts
  }
  if (!kept_.contains(key)) {
    makeRoomToKeep(bytes);
    kept_bytes_ += bytes;
  }
  Kept& kept = kept_[std::move(key)];
  kept.body = std::move(body);
  kept.until = until;
}

// Expired answers are otherwise only dropped when asked for again, and the OCSP keys change with
// every renewed certificate, so without a bound they would pile up.
void RevocationFetcher::makeRoomToKeep(std::size_t bytes) {
  auto full = [&] {
    return kept_.size() >= kMaxKeptRevocationAnswers ||
           kept_bytes_ + bytes > kMaxKeptRevocationBytes;
  };
  if (!full()) {
    return;
  }
  const MonoTime now = dispatcher_.now();
  for (auto it = kept_.begin(); it != kept_.end();) {
    auto next = std::next(it);
    if (it->second.until <= now) {
      eraseKept(it);
    }
    it = next;
  }
  while (!kept_.empty() && full()) {
    eraseKept(std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
      return a.second.until < b.second.until;
    }));
  }
}

void RevocationFetcher::eraseKept(std::map<Key, Kept>::iterator it) {
  kept_bytes_ -= it->second.body ? it->second.body->size() : 0;
  kept_.erase(it);
}

const std::string& RevocationFetcher::ocspRequest(const Der& certificate, const Der& issuer) {
  // Certificates come and go with the config and their servers' renewals; a bound keeps the
  // memory of past ones from growing forever.
  constexpr std::size_t kMaxRememberedRequests = 50000;
  auto key = std::make_pair(certificate, issuer);
  auto it = ocsp_requests_.find(key);
  if (it != ocsp_requests_.end()) {
    return it->second;
  }
  if (ocsp_requests_.size() >= kMaxRememberedRequests) {
    ocsp_requests_.clear();
  }
  return ocsp_requests_.emplace(std::move(key), buildOcspRequest(certificate, issuer))
      .first->second;
}

void RevocationFetcher::keepVerdict(const HttpFetchRequest& request, const Der& certificate,
                                    const CheckedAnswer& verdict) {
  auto it = kept_.find({request.url, request.post_body});
  if (it != kept_.end()) {
    it->second.verdicts[certificate] = verdict;
  }
}

std::optional<CheckedAnswer> RevocationFetcher::keptVerdict(const HttpFetchRequest& request,
                                                            const Der& certificate) const {
  auto it = kept_.find({request.url, request.post_body});
  if (it == kept_.end() || it->second.until <= dispatcher_.now()) {
    return std::nullopt;
  }
  auto verdict = it->second.verdicts.find(certificate);
  if (verdict == it->second.verdicts.end()) {
    return std::nullopt;
  }
  return verdict->second;
}

void RevocationFetcher::cancelAll() {
  for (auto& [key, flight] : in_flight_) {
    for (Waiter* w : flight.waiters) {
      w->joined_ = false;
    }
  }
  in_flight_.clear();
}

void RevocationFetcher::forget(const HttpFetchRequest& request) {
  if (auto it = kept_.find({request.url, request.post_body}); it != kept_.end()) {
    eraseKept(it);
  }
}

}  // namespace bhe
