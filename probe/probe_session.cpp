#include "probe/probe_session.h"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>

#include "common/host_port.h"
#include "common/log.h"
#include "common/time_format.h"
#include "config/duration.h"
#include "probe/classify.h"
#include "probe/http_exchange.h"

namespace bhe {
namespace {

// Bytes read from the socket per callback; one buffer per session, reused.
constexpr std::size_t kReadBufferBytes = 16 * 1024;

double secondsBetween(std::uint64_t from_ns, std::uint64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

class ProbeSession final : public ActiveProbe {
 public:
  ProbeSession(const ProbeEnvironment& env, std::shared_ptr<const ProbeTarget> target, bool trace,
               ProbeDone done)
      : env_(env),
        target_(std::move(target)),
        trace_(trace),
        done_(std::move(done)),
        parser_(env.max_response_bytes) {
    uv_timer_init(env_.loop, &timer_);
    timer_.data = this;
    ++open_handles_;
  }

  void cancel() override {
    complete(Failure{Reason::kBackendTimeout, "Probe cancelled: the exporter is shutting down"});
  }

  void start() {
    started_ns_ = uv_hrtime();
    phase_started_ns_ = started_ns_;
    result_.started_unix_ms = unixMillisNow();
    armTimer(TimerAction::kTimeout, static_cast<std::uint64_t>(target_->timeout.count()));
    note("probe " + std::string(protocolName(target_->protocol)) + "://" + target_->key.server +
         ":" + std::to_string(target_->port) + target_->path + " Host: " + target_->host_header +
         " timeout " + formatDuration(target_->timeout));
    if (target_->server_is_ip) {
      connect(target_->key.server);
    } else {
      resolve();
    }
  }

 private:
  // --- resolve -------------------------------------------------------------------------------
  void resolve() {
    phase_ = ProbePhase::kDns;
    dns_pending_ = true;
    note("resolving " + target_->key.server + " via " +
         (env_.resolver->serversText().empty() ? std::string("system resolvers")
                                               : env_.resolver->serversText()));
    // With a last-known-good address, a resolver that does not answer gets half the timeout,
    // then probing goes on at that address; without one, the whole timeout (CONTRACT §3).
    if (lastKnownAddress()) {
      armTimer(TimerAction::kDnsFallback, static_cast<std::uint64_t>(target_->timeout.count()) / 2);
    }
    env_.resolver->resolve(target_->key.server, [this](const Resolver::Answer& answer) {
      dns_pending_ = false;
      if (finished_) {
        maybeDelete();
        return;
      }
      if (phase_ != ProbePhase::kDns) {  // late answer: we went on with the last-known address
        if (answer.status == ARES_SUCCESS) {
          (*env_.last_known)[target_->key.server] = answer.addresses;
        }
        return;
      }
      onResolved(answer);
    });
  }

  const std::string* lastKnownAddress() const {
    auto known = env_.last_known->find(target_->key.server);
    if (known == env_.last_known->end() || known->second.empty()) {
      return nullptr;
    }
    return &known->second.front();
  }

  void onDnsTooSlow() {
    const std::string* known = lastKnownAddress();
    std::uint64_t now = uv_hrtime();
    result_.seconds.dns = secondsBetween(phase_started_ns_, now);
    phase_started_ns_ = now;
    result_.dns_stale = true;
    note("no DNS answer within half the probe timeout; probing the last-known-good address " +
         *known);
    armTimer(TimerAction::kTimeout, remainingTimeoutMs());
    connect(*known);
  }

  // One timer per session, re-armed for whatever comes next: the DNS fallback, the probe
  // timeout, or the zero-delay hand-over of the result.
  enum class TimerAction { kDnsFallback, kTimeout, kDeliver };

  void armTimer(TimerAction action, std::uint64_t delay_ms) {
    timer_action_ = action;
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { static_cast<ProbeSession*>(t->data)->onTimer(); }, delay_ms,
        0);
  }

  void onTimer() {
    switch (timer_action_) {
      case TimerAction::kDnsFallback:
        onDnsTooSlow();
        break;
      case TimerAction::kTimeout:
        onTimeout();
        break;
      case TimerAction::kDeliver:
        deliver();
        break;
    }
  }

  std::uint64_t remainingTimeoutMs() const {
    std::uint64_t elapsed_ms = (uv_hrtime() - started_ns_) / 1000000;
    std::uint64_t timeout_ms = static_cast<std::uint64_t>(target_->timeout.count());
    return timeout_ms > elapsed_ms ? timeout_ms - elapsed_ms : 0;
  }

  void onResolved(const Resolver::Answer& answer) {
    std::uint64_t now = uv_hrtime();
    result_.seconds.dns = secondsBetween(phase_started_ns_, now);
    phase_started_ns_ = now;
    const std::string& name = target_->key.server;
    if (answer.status == ARES_SUCCESS) {
      (*env_.last_known)[name] = answer.addresses;
      std::string all;
      for (const auto& a : answer.addresses) {
        all += (all.empty() ? "" : ", ") + a;
      }
      note("resolved " + name + " -> " + all);
      armTimer(TimerAction::kTimeout, remainingTimeoutMs());
      connect(answer.addresses.front());
      return;
    }
    Failure failure = classifyDnsFailure(answer.status, name, env_.resolver->serversText());
    if (const std::string* known = lastKnownAddress()) {
      result_.dns_stale = true;
      note(failure.details + "; probing the last-known-good address " + *known);
      armTimer(TimerAction::kTimeout, remainingTimeoutMs());
      connect(*known);
      return;
    }
    note(failure.details);
    complete(std::move(failure));
  }

  // --- connect -------------------------------------------------------------------------------
  void connect(const std::string& address) {
    phase_ = ProbePhase::kConnect;
    result_.address = address;
    peer_ = joinHostPort(address, target_->port);
    sockaddr_storage addr{};
    int rc =
        address.find(':') != std::string::npos
            ? uv_ip6_addr(address.c_str(), target_->port, reinterpret_cast<sockaddr_in6*>(&addr))
            : uv_ip4_addr(address.c_str(), target_->port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) {
      complete(classifyConnectFailure(rc, peer_));
      return;
    }
    uv_tcp_init(env_.loop, &tcp_);
    tcp_.data = this;
    ++open_handles_;
    tcp_open_ = true;
    uv_tcp_nodelay(&tcp_, 1);
    note("connecting to " + peer_);
    connect_req_.data = this;
    rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr),
                        [](uv_connect_t* req, int status) {
                          static_cast<ProbeSession*>(req->data)->onConnected(status);
                        });
    if (rc != 0) {  // e.g. ENETUNREACH is reported synchronously
      complete(classifyConnectFailure(rc, peer_));
    }
  }

  void onConnected(int status) {
    if (finished_) {
      return;  // the timeout already decided; this is the cancellation callback
    }
    std::uint64_t now = uv_hrtime();
    result_.seconds.connect = secondsBetween(phase_started_ns_, now);
    phase_started_ns_ = now;
    if (status < 0) {
      complete(classifyConnectFailure(status, peer_));
      return;
    }
    note("connected to " + peer_);
    startReading();
    if (target_->protocol == Protocol::kHttps) {
      startTls();
    } else {
      startHttp();
    }
  }

  void startReading() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp_),
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
          auto* self = static_cast<ProbeSession*>(h->data);
          buf->base = self->read_buffer_;
          buf->len = sizeof self->read_buffer_;
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          static_cast<ProbeSession*>(s->data)->onRead(nread, buf);
        });
  }

  // --- tls -----------------------------------------------------------------------------------
  void startTls() {
    phase_ = ProbePhase::kTls;
    tls_settings_ = env_.tls_for ? env_.tls_for(*target_) : nullptr;
    if (!tls_settings_) {
      complete(Failure{Reason::kTlsHandshakeError,
                       "TLS could not be set up for these backend settings (see the exporter "
                       "log)"});
      return;
    }
    TlsPeerHint hint;
    if (TlsTargetMemory* memory = tlsMemory()) {
      // Taken, not copied: only an established handshake puts a hint back.
      hint = std::exchange(memory->peer, TlsPeerHint{});
    }
    tls_ = std::make_unique<TlsClient>(tls_settings_->context, target_->tls_host, hint);
    note("TLS handshake, SNI " +
         (target_->tls_host.empty() || isIpLiteral(target_->tls_host) ? std::string("(none)")
                                                                      : target_->tls_host) +
         ", trust: " +
         (tls_settings_->mode == TrustMode::kPrivate ? "trusted_root_certificates"
                                                     : "well-known CA bundle"));
    tls_->start();
    flushTls();
  }

  void flushTls() {
    if (tls_->hasOutgoing()) {
      sendRaw(tls_->takeOutgoing());
    }
  }

  void onTlsBytes(std::string_view bytes) {
    if (!tls_->receive(bytes.data(), bytes.size())) {
      complete(Failure{
          phase_ == ProbePhase::kTls ? Reason::kTlsHandshakeError : Reason::kHttpInvalidResponse,
          tls_->error().text});
      return;
    }
    driveTls();
  }

  TlsTargetMemory* tlsMemory() const {
    return env_.tls_memory_for ? env_.tls_memory_for(*target_) : nullptr;
  }

  // Moves the TLS state machine on with whatever ciphertext arrived.
  void driveTls() {
    if (phase_ == ProbePhase::kTls) {
      TlsClient::State state = tls_->advance();
      flushTls();
      if (state == TlsClient::State::kFailed) {
        complete(Failure{Reason::kTlsHandshakeError, tls_->error().text + " (wolfSSL error " +
                                                         std::to_string(tls_->error().code) + ")"});
        return;
      }
      if (state != TlsClient::State::kEstablished) {
        return;
      }
      onTlsEstablished();
      if (finished_) {
        return;
      }
    }
    std::string plain;
    while (!finished_) {
      plain.clear();
      TlsClient::ReadStatus status = tls_->readPlain(plain, sizeof read_buffer_);
      if (!plain.empty()) {
        onResponseBytes(plain);
        continue;
      }
      if (status == TlsClient::ReadStatus::kClosed) {
        onPeerClosed();
      } else if (status == TlsClient::ReadStatus::kError) {
        complete(classifyBrokenResponse("TLS error after the handshake: " + tls_->error().text,
                                        parser_.bytesReceived()));
      }
      return;
    }
  }

  void onTlsEstablished() {
    std::uint64_t now = uv_hrtime();
    result_.seconds.tls = secondsBetween(phase_started_ns_, now);
    phase_started_ns_ = now;
    const auto& chain = tls_->presentedChain();
    const ChainAnalysisInput input{chain,
                                   &tls_settings_->context->anchors(),
                                   tls_settings_->mode,
                                   target_->tls_host,
                                   static_cast<std::int64_t>(std::time(nullptr)),
                                   tls_->verifyErrors()};
    TlsTargetMemory* memory = tlsMemory();
    ChainVerdictMemo* memo = memory != nullptr ? &memory->chain_verdict : nullptr;
    if (memory != nullptr) {
      memory->peer = tls_->hintForNextHandshake();
    }
    std::optional<ChainVerdict> fresh;
    const ChainVerdict& verdict =
        memo != nullptr ? memo->analyze(input) : fresh.emplace(analyzeChain(input));
    TlsObservation observed;
    observed.version = tls_->version();
    observed.cipher = tls_->cipher();
    for (const auto& c : verdict.chain) {
      observed.chain.push_back(
          {c.position, c.subject, c.issuer, c.not_before, c.not_after, c.is_ca});
    }
    observed.leaf_not_after = verdict.leaf_not_after;
    observed.chain_earliest_not_after = verdict.chain_earliest_not_after;
    result_.tls = std::move(observed);
    note("TLS established: " + result_.tls->version + " " + result_.tls->cipher + ", " +
         std::to_string(chain.size()) + " certificates presented: " + describeChain(verdict.chain));
    if (!verdict.ok()) {
      complete(Failure{*verdict.reason, verdict.details});
      return;
    }
    note(verdict.details + (memo != nullptr && memo->lastReused()
                                ? " (same chain as the previous probe: verdict reused)"
                                : ""));
    tls_verified_text_ = verdict.details + "; chain: " + describeChain(verdict.chain);
    startHttp();
  }

  // --- http ----------------------------------------------------------------------------------
  void startHttp() {
    phase_ = ProbePhase::kHttp;
    std::string request = buildProbeRequest(target_->path, target_->host_header);
    note("sending GET " + target_->path + " HTTP/1.1, Host: " + target_->host_header);
    if (tls_) {
      if (!tls_->writePlain(request)) {
        complete(classifyBrokenResponse("TLS write failed: " + tls_->error().text, 0));
        return;
      }
      flushTls();
    } else {
      sendRaw(std::move(request));
    }
  }

  void sendRaw(std::string bytes) {
    struct WriteRequest {
      uv_write_t req;
      std::string data;
    };
    auto* w = new WriteRequest{{}, std::move(bytes)};
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1,
                      [](uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); });
    if (rc != 0) {
      delete w;
      complete(classifyBrokenResponse(std::string("Sending the request failed: ") + uv_strerror(rc),
                                      parser_.bytesReceived()));
    }
  }

  void onRead(ssize_t nread, const uv_buf_t* buf) {
    if (finished_ || nread == 0) {
      return;
    }
    if (nread < 0 && tls_) {
      tls_->markPeerClosed();  // EOF or reset: wolfSSL sees a closed transport
    }
    if (nread < 0 && phase_ == ProbePhase::kTls) {
      if (nread == UV_EOF) {
        driveTls();  // completes with wolfSSL's account of the half-finished handshake
      } else {
        complete(Failure{Reason::kTlsHandshakeError,
                         std::string("Connection reset by the backend during the TLS handshake "
                                     "after ") +
                             std::to_string(tls_->bytesReceived()) + " bytes (" +
                             uv_err_name(static_cast<int>(nread)) + ")"});
      }
      return;
    }
    if (nread == UV_EOF) {
      if (tls_) {
        driveTls();  // drains decrypted bytes, then reports the close
      } else {
        onPeerClosed();
      }
      return;
    }
    if (nread < 0) {
      int err = static_cast<int>(nread);
      complete(classifyBrokenResponse(
          std::string(err == UV_ECONNRESET ? "Connection reset by the backend"
                                           : std::string("Read failed: ") + uv_strerror(err)),
          parser_.bytesReceived()));
      return;
    }
    std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
    if (tls_) {
      onTlsBytes(bytes);
    } else {
      onResponseBytes(bytes);
    }
  }

  void onResponseBytes(std::string_view bytes) {
    auto progress = parser_.feed(bytes);
    if (progress == HttpResponseParser::Progress::kInvalid) {
      complete(classifyInvalidResponse(parser_.error(), parser_.bytesReceived()));
      return;
    }
    if (parser_.headersComplete() && !status_noted_) {
      status_noted_ = true;
      result_.http_status = parser_.status();
      std::string headers;
      for (const auto& [k, v] : parser_.headers()) {
        headers += "\n    " + k + ": " + v;
      }
      note("response status " + std::to_string(parser_.status()) + headers);
      // The status is judged before the body: no need to wait for a body we will not read.
      auto verdict =
          classifyResponse(parser_.status(), "", ProbeMatch{target_->match.status_codes, {}});
      if (verdict) {
        complete(std::move(*verdict));
        return;
      }
    }
    if (progress == HttpResponseParser::Progress::kComplete) {
      finishResponse();
    }
  }

  void onPeerClosed() {
    auto progress = parser_.finishAtEof();
    if (progress == HttpResponseParser::Progress::kComplete) {
      finishResponse();
      return;
    }
    complete(classifyBrokenResponse("Connection closed by the backend", parser_.bytesReceived()));
  }

  void finishResponse() {
    note("response complete: " + std::to_string(parser_.bodyBytesSeen()) + " body bytes, " +
         std::to_string(parser_.body().size()) + " kept for matching");
    auto verdict = classifyResponse(parser_.status(), parser_.body(), target_->match);
    if (verdict) {
      complete(std::move(*verdict));
      return;
    }
    result_.success = true;
    result_.details = "Received:" + std::to_string(parser_.status()) + " from " + peer_;
    if (result_.tls) {
      result_.details += " over " + result_.tls->version + "; " + tls_verified_text_;
    }
    complete(std::nullopt);
  }

  // --- end -----------------------------------------------------------------------------------
  void onTimeout() { complete(classifyTimeout(phase_, formatDuration(target_->timeout), peer_)); }

  void complete(std::optional<Failure> failure) {
    if (finished_) {
      return;
    }
    finished_ = true;
    std::uint64_t now = uv_hrtime();
    double phase_seconds = secondsBetween(phase_started_ns_, now);
    switch (phase_) {
      case ProbePhase::kDns:
        result_.seconds.dns = phase_seconds;
        break;
      case ProbePhase::kConnect:
        result_.seconds.connect = phase_seconds;
        break;
      case ProbePhase::kTls:
        result_.seconds.tls = phase_seconds;
        break;
      case ProbePhase::kHttp:
        result_.seconds.http = phase_seconds;
        break;
    }
    result_.seconds.total = secondsBetween(started_ns_, now);
    if (failure) {
      result_.success = false;
      result_.reason = failure->reason;
      result_.details = std::move(failure->details);
      note("result: " + std::string(describe(result_.reason).name) + ": " + result_.details);
    } else {
      note("result: success: " + result_.details);
    }
    if (tcp_open_) {
      tcp_open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
               [](uv_handle_t* h) { static_cast<ProbeSession*>(h->data)->onHandleClosed(); });
    }
    // Deliver from a fresh loop turn: complete() may run inside startProbe() or a libuv
    // callback, and the receiver may start the next probe right away.
    armTimer(TimerAction::kDeliver, 0);
  }

  void deliver() {
    ProbeDone done = std::move(done_);
    ProbeResult result = std::move(result_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
             [](uv_handle_t* h) { static_cast<ProbeSession*>(h->data)->onHandleClosed(); });
    done(std::move(result));
  }

  void onHandleClosed() {
    --open_handles_;
    maybeDelete();
  }

  void maybeDelete() {
    if (finished_ && open_handles_ == 0 && !dns_pending_) {
      delete this;
    }
  }

  void note(const std::string& line) {
    if (!trace_) {
      return;
    }
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%8.3fms ",
                  secondsBetween(started_ns_, uv_hrtime()) * 1000.0);
    result_.trace.push_back(stamp + line);
  }

  ProbeEnvironment env_;
  std::shared_ptr<const ProbeTarget> target_;
  bool trace_;
  ProbeDone done_;
  ProbeResult result_;
  HttpResponseParser parser_;
  std::unique_ptr<TlsClient> tls_;
  std::shared_ptr<const TlsSettings> tls_settings_;
  std::string tls_verified_text_;
  ProbePhase phase_ = ProbePhase::kDns;
  std::string peer_;
  uv_timer_t timer_{};
  TimerAction timer_action_ = TimerAction::kTimeout;
  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  bool tcp_open_ = false;
  bool dns_pending_ = false;
  bool finished_ = false;
  bool status_noted_ = false;
  int open_handles_ = 0;
  std::uint64_t started_ns_ = 0;
  std::uint64_t phase_started_ns_ = 0;
  char read_buffer_[kReadBufferBytes];
};

}  // namespace

ActiveProbe* startProbe(const ProbeEnvironment& env, std::shared_ptr<const ProbeTarget> target,
                        bool trace, ProbeDone done) {
  auto* session = new ProbeSession(env, std::move(target), trace, std::move(done));
  session->start();
  return session;
}

}  // namespace bhe
