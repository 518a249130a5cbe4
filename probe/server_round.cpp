#include "probe/server_round.h"

#include "common/time_format.h"
#include "config/duration.h"
#include "probe/classify/classify.h"

namespace bhe {

ServerRound::ServerRound(Dispatcher& dispatcher, Resolver& resolver, ProbeRunner& runner,
                         std::shared_ptr<const ProbeTarget> target, Options options, Done done)
    : dispatcher_(dispatcher),
      resolver_(resolver),
      runner_(runner),
      target_(std::move(target)),
      options_(options),
      done_(std::move(done)) {}

ServerRound::~ServerRound() {
  for (ProbeRunner::Ticket ticket : tickets_) {
    if (ticket != 0) {
      runner_.cancel(ticket);
    }
  }
}

void ServerRound::start() {
  started_ = dispatcher_.now();
  if (target_->server_is_ip) {
    probe({target_->key.server}, std::chrono::nanoseconds(0), false, options_.due);
    return;
  }
  if (options_.trace) {
    trace_ = std::make_unique<ProbeTrace>(dispatcher_, started_);
  }
  resolve_ = std::make_unique<ResolvePhase>(
      dispatcher_, resolver_, target_->key.server, target_->address_families,
      options_.max_addresses, target_->timeout, trace_.get(),
      [this](const ResolveOutcome& outcome) { onResolved(outcome); });
  resolve_->start();
}

void ServerRound::onResolved(const ResolveOutcome& outcome) {
  const auto resolved_in = dispatcher_.now() - started_;
  if (trace_) {
    result_.trace = trace_->take();
  }
  if (outcome.kind != ResolveOutcome::Kind::kAddresses) {
    ProbeResult failed;
    failed.started_unix_ms =
        unixMillisNow() -
        std::chrono::duration_cast<std::chrono::milliseconds>(resolved_in).count();
    Failure failure = classifyUnresolved(outcome, target_->key.server, target_->address_families,
                                         formatDuration(target_->timeout));
    failed.reason = failure.reason;
    failed.details = std::move(failure.details);
    failed.seconds.dns = failed.seconds.total = std::chrono::duration<double>(resolved_in).count();
    if (options_.trace) {
      result_.trace.push_back("result: " + std::string(describe(failed.reason).name) + ": " +
                              failed.details);
    }
    result_.unresolved = std::move(failed);
    finish();
    return;
  }
  result_.omitted = outcome.omitted;
  // Members of a resolved name queue from now on: their lag is queueing, not the lookup.
  probe(outcome.addresses, resolved_in, outcome.stale, dispatcher_.now());
}

void ServerRound::probe(const std::vector<std::string>& addresses,
                        std::chrono::nanoseconds resolved_in, bool stale,
                        std::optional<MonoTime> due) {
  result_.addresses.resize(addresses.size());
  tickets_.assign(addresses.size(), 0);
  pending_ = addresses.size();
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    result_.addresses[i].address = addresses[i];
    ProbeRequest request{
        target_,        addresses[i],
        options_.trace, resolved_in,
        stale,          options_.tls_memory ? options_.tls_memory(addresses[i]) : nullptr};
    tickets_[i] = runner_.submit(std::move(request), due,
                                 [this, i](ProbeResult result) { onProbed(i, std::move(result)); });
    if (tickets_[i] == 0) {  // the runner is shutting down
      --pending_;
    }
  }
  if (pending_ == 0) {
    finish();
  }
}

void ServerRound::onProbed(std::size_t index, ProbeResult result) {
  tickets_[index] = 0;
  result_.addresses[index].result = std::move(result);
  if (--pending_ == 0) {
    finish();
  }
}

void ServerRound::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  // Hand over from a fresh loop turn: this may run inside start() or inside a phase's callback.
  std::weak_ptr<ServerRound*> alive = self_;
  dispatcher_.post([alive] {
    if (auto self = alive.lock()) {
      ServerRound* round = *self;
      Done done = std::move(round->done_);
      done(std::move(round->result_));  // may destroy the round
    }
  });
}

}  // namespace bhe
