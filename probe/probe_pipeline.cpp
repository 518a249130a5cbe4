#include "probe/probe_pipeline.h"

#include <array>
#include <ctime>
#include <utility>

#include "common/host_port.h"
#include "common/time_format.h"
#include "config/duration.h"
#include "probe/classify/classify.h"
#include "probe/connect/tcp_stream.h"
#include "probe/http/http_phase.h"
#include "probe/probe_trace.h"
#include "probe/revocation/revocation_step.h"
#include "probe/tls/tls_stream.h"

namespace bhe {
namespace {

// Where the time of a probe went: each phase from its start to the next one's (or the end).
class PhaseClock {
 public:
  // `resolved_in`: the resolve phase ran before this clock started; it is counted as the dns
  // phase and in the total.
  PhaseClock(const Dispatcher& dispatcher, std::chrono::nanoseconds resolved_in)
      : dispatcher_(dispatcher), started_(dispatcher.now() - resolved_in) {
    phase_started_ = started_;
  }
  MonoTime started() const { return started_; }
  ProbePhase phase() const { return phase_; }
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(dispatcher_.now() - started_);
  }

  // Ends the current phase (its time is recorded) and starts `next`.
  void enter(ProbePhase next) {
    close();
    phase_ = next;
  }
  // Ends the current phase for good; fills every phase's time and the total.
  PhaseSeconds finish() {
    close();
    PhaseSeconds out;
    out.dns = seconds_[static_cast<int>(ProbePhase::kDns)];
    out.connect = seconds_[static_cast<int>(ProbePhase::kConnect)];
    out.tls = seconds_[static_cast<int>(ProbePhase::kTls)];
    out.http = seconds_[static_cast<int>(ProbePhase::kHttp)];
    out.total = std::chrono::duration<double>(dispatcher_.now() - started_).count();
    return out;
  }

 private:
  void close() {
    const MonoTime now = dispatcher_.now();
    seconds_[static_cast<int>(phase_)] +=
        std::chrono::duration<double>(now - phase_started_).count();
    phase_started_ = now;
  }

  const Dispatcher& dispatcher_;
  MonoTime started_;
  MonoTime phase_started_;
  ProbePhase phase_ = ProbePhase::kDns;
  std::array<double, 4> seconds_{};
};

class ProbePipeline final : public ActiveProbe {
 public:
  ProbePipeline(uv_loop_t* loop, Dispatcher& dispatcher, TickTimers& deadlines,
                std::shared_ptr<const ProbeContext> context, const ProbeRequest& request,
                ProbeDone done, RevocationFetcher* revocation_fetcher)
      : loop_(loop),
        dispatcher_(dispatcher),
        revocation_fetcher_(revocation_fetcher),
        context_(std::move(context)),
        target_(request.target),
        request_(request),
        done_(std::move(done)),
        clock_(dispatcher, request.resolved_in),
        deadline_(deadlines.createTimer([this] { onDeadline(); })) {
    if (request.trace) {
      trace_ = std::make_unique<ProbeTrace>(dispatcher, clock_.started());
    }
  }

  void start() {
    result_.started_unix_ms =
        unixMillisNow() -
        std::chrono::duration_cast<std::chrono::milliseconds>(request_.resolved_in).count();
    result_.dns_stale = request_.dns_stale;
    const auto spent = std::chrono::ceil<std::chrono::milliseconds>(request_.resolved_in);
    deadline_->arm(spent < target_->timeout ? target_->timeout - spent
                                            : std::chrono::milliseconds(0));
    note(trace_.get(), [&] {
      return "probe " + std::string(protocolName(target_->protocol)) + "://" + target_->key.server +
             ":" + std::to_string(target_->port) + target_->path +
             " Host: " + target_->host_header + " timeout " + formatDuration(target_->timeout);
    });
    connect(request_.address);
  }

  void cancel() override { finish(classifyCancelled()); }

 private:
  // --- connect -------------------------------------------------------------------------------
  void connect(const std::string& address) {
    clock_.enter(ProbePhase::kConnect);
    result_.address = address;
    peer_ = joinHostPort(address, target_->port);
    note(trace_.get(), [&] { return "connecting to " + peer_; });
    tcp_ = std::make_unique<TcpStream>(loop_);
    int rc = tcp_->connect(address, target_->port, [this](int status) { onConnected(status); });
    if (rc != 0) {  // e.g. ENETUNREACH is reported synchronously
      finish(classifyConnectFailure(rc, peer_));
    }
  }

  void onConnected(int status) {
    if (finished_) {
      return;
    }
    if (status < 0) {
      finish(classifyConnectFailure(status, peer_));
      return;
    }
    note(trace_.get(), [&] { return "connected to " + peer_; });
    if (target_->protocol == Protocol::kHttps) {
      startTls();
    } else {
      startHttp(*tcp_);
    }
  }

  // --- tls -----------------------------------------------------------------------------------
  void startTls() {
    clock_.enter(ProbePhase::kTls);
    tls_settings_ = context_->tlsFor(*target_);
    if (tls_settings_ == nullptr) {
      finish(classifyTlsUnavailable());
      return;
    }
    note(trace_.get(), [&] {
      const std::string& sni = target_->tls_host;
      return "TLS handshake, SNI " +
             (sni.empty() || isIpLiteral(sni) ? std::string("(none)") : sni) + ", trust: " +
             (tls_settings_->mode == TrustMode::kPrivate ? "trusted_root_certificates"
                                                         : "well-known CA bundle");
    });
    TlsPeerHint hint;
    if (request_.tls_memory) {
      // Taken, not copied: only an established handshake puts a hint back.
      hint = std::exchange(request_.tls_memory->peer, TlsPeerHint{});
    }
    tls_ = std::make_unique<TlsStream>(std::move(tcp_), tls_settings_->context, target_->tls_host,
                                       hint);
    if (checksRevocation()) {
      tls_->client().requestOcspStapling();
    }
    tls_->handshake([this](const TlsHandshakeFailure* failure) { onHandshake(failure); });
  }

  void onHandshake(const TlsHandshakeFailure* failure) {
    if (finished_) {
      return;
    }
    const TlsClient& client = tls_->client();
    if (failure != nullptr) {
      // A stapled response that says "revoked" ends the handshake inside wolfSSL; the chain was
      // received, so it is judged like any other and the staple counts as the leaf's answer.
      if (client.staplingRevoked()) {
        analyzePresentedChain();
        if (revocationApplies(*verdict_)) {
          handshake_failure_ = *failure;
          startRevocation(StapledOcsp{client.stapledResponse(), false, true});
          return;
        }
        if (!verdict_->ok()) {
          finish(classifyChainVerdict(*verdict_));
          return;
        }
      }
      finish(classifyTlsHandshakeFailure(*failure));
      return;
    }
    analyzePresentedChain();
    note(trace_.get(), [&] {
      return "TLS established: " + result_.tls->version + " " + result_.tls->cipher + ", " +
             std::to_string(client.presentedChain().size()) +
             " certificates presented: " + describeChain(verdict_->chain);
    });
    if (checksRevocation() && revocationApplies(*verdict_)) {
      std::optional<StapledOcsp> stapled;
      if (!client.stapledResponse().empty() || client.staplingGood()) {
        stapled = StapledOcsp{client.stapledResponse(), client.staplingGood(), false};
      }
      startRevocation(std::move(stapled));
      return;
    }
    if (!verdict_->ok()) {
      finish(classifyChainVerdict(*verdict_));
      return;
    }
    noteVerdict();
    startHttp(*tls_);
  }

  // The verdict on the presented chain, as the settings' switches want it, through the target's
  // memo when it has one; and the chain view of the result.
  void analyzePresentedChain() {
    const TlsClient& client = tls_->client();
    const ChainAnalysisInput input{client.presentedChain(),
                                   &tls_settings_->context->anchors(),
                                   tls_settings_->mode,
                                   target_->tls_host,
                                   static_cast<std::int64_t>(std::time(nullptr)),
                                   client.verifyErrors()};
    TlsTargetMemory* memory = request_.tls_memory.get();
    if (memory != nullptr && client.state() == TlsClient::State::kEstablished) {
      memory->peer = client.hintForNextHandshake();
    }
    verdict_ = judgeChain(
        input, TlsSwitches{target_->validate_cert_chain_and_expiry, target_->validate_sni},
        [&](const ChainAnalysisInput& in) {
          if (memory == nullptr) {
            return analyzeChain(in);
          }
          ChainVerdict v = memory->chain_verdict.analyze(in);
          verdict_reused_ = memory->chain_verdict.lastReused();
          return v;
        });
    TlsObservation observed;
    observed.version = client.version();
    observed.cipher = client.cipher();
    observed.chain = verdict_->chain;
    observed.leaf_not_after = verdict_->leaf_not_after;
    observed.chain_earliest_not_after = verdict_->chain_earliest_not_after;
    result_.tls = std::move(observed);
  }

  void noteVerdict() {
    note(trace_.get(), [&] {
      return verdict_->details +
             (verdict_reused_ ? " (same chain as the previous probe: verdict reused)" : "");
    });
  }

  // --- revocation (part of the TLS phase) --------------------------------------------------
  bool checksRevocation() const {
    return target_->check_revocation && revocation_fetcher_ != nullptr;
  }

  void startRevocation(std::optional<StapledOcsp> stapled) {
    using std::chrono::milliseconds;
    const milliseconds remaining = target_->timeout - clock_.elapsed();
    // Fetches end early enough for the verdict to be reported before the probe's deadline.
    const milliseconds margin = std::max(milliseconds(50), remaining / 10);
    const milliseconds budget = std::max(milliseconds(0), remaining - margin);
    note(trace_.get(), [&] {
      return "checking revocation of the verified path within " + formatDuration(budget);
    });
    revocation_ = std::make_unique<RevocationStep>(
        dispatcher_, *revocation_fetcher_, verdict_->trusted_path, std::move(stapled), budget,
        [this](const RevocationVerdict& verdict) { onRevocation(verdict); }, trace_.get());
    revocation_->start();
  }

  void onRevocation(const RevocationVerdict& verdict) {
    if (finished_) {
      return;
    }
    result_.tls->revocation = revocationViews(verdict);
    revocation_verdict_ = verdict;
    note(trace_.get(), [&] { return describeRevocation(verdict); });
    if (auto failure = classifyRevocation(*verdict_, verdict)) {
      finish(std::move(*failure));
      return;
    }
    if (handshake_failure_) {  // the staple wolfSSL refused did not hold up as "revoked"
      finish(classifyTlsHandshakeFailure(*handshake_failure_));
      return;
    }
    noteVerdict();
    startHttp(*tls_);
  }

  // --- http ----------------------------------------------------------------------------------
  void startHttp(Stream& stream) {
    clock_.enter(ProbePhase::kHttp);
    http_ =
        std::make_unique<HttpPhase>(stream, *target_, context_->maxResponseBytes(), trace_.get(),
                                    [this](const HttpOutcome& outcome) { onHttp(outcome); });
    http_->start();
  }

  void onHttp(const HttpOutcome& outcome) {
    if (finished_) {
      return;
    }
    result_.http_status = outcome.status;
    if (auto failure = classifyHttpOutcome(outcome, target_->match)) {
      finish(std::move(*failure));
      return;
    }
    result_.success = true;
    result_.details = describeSuccess(outcome.status, peer_, result_.tls ? &*result_.tls : nullptr,
                                      verdict_ ? &*verdict_ : nullptr,
                                      revocation_verdict_ ? &*revocation_verdict_ : nullptr);
    finish(std::nullopt);
  }

  // --- end -----------------------------------------------------------------------------------
  void onDeadline() {
    finish(classifyTimeout(clock_.phase(), formatDuration(target_->timeout), peer_));
  }

  void finish(std::optional<Failure> failure) {
    if (finished_) {
      return;
    }
    finished_ = true;
    deadline_->disarm();
    result_.seconds = clock_.finish();
    if (failure) {
      result_.success = false;
      result_.reason = failure->reason;
      result_.details = std::move(failure->details);
      note(trace_.get(), [&] {
        return "result: " + std::string(describe(result_.reason).name) + ": " + result_.details;
      });
    } else {
      note(trace_.get(), [&] { return "result: success: " + result_.details; });
    }
    if (trace_) {
      result_.trace = trace_->take();
    }
    // finish() may run inside start() or inside a stream's callback: hand the result over from
    // a fresh loop turn; the streams close when the runner frees this pipeline after that.
    dispatcher_.post([this] {
      ProbeDone done = std::move(done_);
      done(std::move(result_));
    });
  }

  uv_loop_t* loop_;
  Dispatcher& dispatcher_;
  RevocationFetcher* revocation_fetcher_;
  std::shared_ptr<const ProbeContext> context_;
  std::shared_ptr<const ProbeTarget> target_;
  ProbeRequest request_;
  ProbeDone done_;
  PhaseClock clock_;
  std::unique_ptr<Timer> deadline_;
  std::unique_ptr<ProbeTrace> trace_;
  ProbeResult result_;
  std::string peer_;
  std::unique_ptr<TcpStream> tcp_;  // until TLS takes it over
  const TlsSettings* tls_settings_ = nullptr;
  std::unique_ptr<TlsStream> tls_;
  std::optional<ChainVerdict> verdict_;
  bool verdict_reused_ = false;
  std::unique_ptr<RevocationStep> revocation_;
  std::optional<RevocationVerdict> revocation_verdict_;
  std::optional<TlsHandshakeFailure> handshake_failure_;  // a revoked staple ended the handshake
  std::unique_ptr<HttpPhase> http_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ActiveProbe> PipelineProber::start(const ProbeRequest& request, ProbeDone done) {
  auto pipeline = std::make_unique<ProbePipeline>(loop_, dispatcher_, deadlines_, context_, request,
                                                  std::move(done), revocation_);
  pipeline->start();
  return pipeline;
}

}  // namespace bhe
