#include "probe/scheduler.h"

#include <functional>
#include <stdexcept>

#include "common/log.h"
#include "common/time_format.h"

namespace bhe {
namespace {

constexpr std::uint64_t kNsPerMs = 1000000;
constexpr std::uint64_t kTickMs = 10;

// c-ares must not be destroyed from inside one of its own callbacks, which is where the last
// probe holding an old resolver may let go of it: destroy it from a fresh loop turn instead.
std::shared_ptr<Resolver> makeResolver(uv_loop_t* loop, const std::vector<std::string>& servers) {
  auto* resolver = new Resolver(loop, servers);
  return std::shared_ptr<Resolver>(resolver, [loop](Resolver* r) {
    auto* t = new uv_timer_t;
    uv_timer_init(loop, t);
    t->data = r;
    uv_timer_start(
        t,
        [](uv_timer_t* timer) {
          delete static_cast<Resolver*>(timer->data);
          uv_close(reinterpret_cast<uv_handle_t*>(timer),
                   [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
        },
        0, 0);
  });
}

std::shared_ptr<const TlsSettings> makeTlsSettings(std::shared_ptr<const TrustAnchors> anchors,
                                                   TrustMode mode, const std::string& what) {
  std::string error;
  auto context = TlsContext::create(std::move(anchors), {}, &error);
  if (!context) {
    throw std::runtime_error("cannot set up TLS for " + what + ": " + error);
  }
  return std::make_shared<const TlsSettings>(TlsSettings{std::move(context), mode});
}

std::shared_ptr<const TlsSettings> loadWellKnownTls(const std::string& bundle) {
  std::string error;
  auto anchors = TrustAnchors::fromFile(bundle, &error);
  if (!anchors) {
    throw std::runtime_error("cannot load the well-known CA bundle " + bundle + ": " + error);
  }
  return makeTlsSettings(std::move(anchors), TrustMode::kWellKnown,
                         "the well-known CA bundle " + bundle);
}

}  // namespace

struct ProbeScheduler::Entry : std::enable_shared_from_this<Entry> {
  explicit Entry(std::shared_ptr<const ProbeTarget> t)
      : target(std::move(t)), machine(target->unhealthy_threshold, target->healthy_threshold) {}
  ~Entry() {
    if (timer != nullptr) {
      uv_timer_stop(timer);
      uv_close(reinterpret_cast<uv_handle_t*>(timer),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    }
  }

  std::shared_ptr<const ProbeTarget> target;
  HealthStateMachine machine;
  TargetStatus status;
  uv_timer_t* timer = nullptr;
  ProbeScheduler* scheduler = nullptr;
  std::uint64_t next_due_ns = 0;
  bool in_flight = false;
  std::uint64_t waiting_due_ns = 0;  // a probe came due while one was running
  TlsTargetMemory tls_memory;
};

ProbeScheduler::ProbeScheduler(uv_loop_t* loop, StatusBoard& board)
    : loop_(loop), board_(board), runner_(ProbeEnvironment{}, 1000) {}

ProbeScheduler::~ProbeScheduler() {
  shutdown();
}

ProbeEnvironment ProbeScheduler::environment() {
  ProbeEnvironment env;
  env.loop = loop_;
  env.resolver = resolver_;
  env.last_known = &last_known_;
  env.max_response_bytes = max_response_bytes_;
  env.tls_for = [this](const ProbeTarget& target) { return tlsFor(target); };
  env.tls_memory_for = [this](const ProbeTarget& target) -> TlsTargetMemory* {
    auto it = entries_.find(target.key);
    return it != entries_.end() ? &it->second->tls_memory : nullptr;
  };
  return env;
}

std::shared_ptr<const TlsSettings> ProbeScheduler::tlsFor(const ProbeTarget& target) {
  if (target.trusted_roots) {
    auto it = private_tls_.find(target.key.settings);
    if (it != private_tls_.end()) {
      return it->second;
    }
  }
  try {
    if (!well_known_tls_) {  // an arbitrary https target, or no settings needed it so far
      well_known_tls_ = loadWellKnownTls(well_known_bundle_);
    }
    return well_known_tls_;
  } catch (const std::exception& e) {
    log::error("TLS setup failed", {{"error", e.what()}});
    return nullptr;
  }
}

void ProbeScheduler::setLagObserver(ProbeRunner::LagObserver observer) {
  runner_.setLagObserver(std::move(observer));
}

void ProbeScheduler::configureEnvironment(const Config& config) {
  // Everything that can fail is built first and committed only when all of it succeeded, so a
  // reload that cannot be applied leaves the running environment untouched.
  std::map<std::string, std::shared_ptr<const TlsSettings>> private_tls;
  bool needs_well_known = false;
  for (const auto& settings : config.settings) {
    if (settings.protocol != Protocol::kHttps) {
      continue;
    }
    if (!settings.trusted_root_certificates) {
      needs_well_known = true;
      continue;
    }
    std::vector<Der> roots;
    for (const auto& file : *settings.trusted_root_certificates) {
      roots.insert(roots.end(), file.der.begin(), file.der.end());
    }
    private_tls[settings.name] =
        makeTlsSettings(TrustAnchors::fromCertificates(roots), TrustMode::kPrivate,
                        "backend settings \"" + settings.name + "\"");
  }
  const std::string& bundle = config.exporter.well_known_ca_bundle;
  auto well_known = bundle == well_known_bundle_ ? well_known_tls_ : nullptr;
  if (needs_well_known && !well_known) {
    well_known = loadWellKnownTls(bundle);
  }
  auto resolver = resolver_;
  if (!resolver || config.exporter.dns_servers != dns_servers_) {
    resolver = makeResolver(loop_, config.exporter.dns_servers);
  }

  resolver_ = std::move(resolver);
  dns_servers_ = config.exporter.dns_servers;
  well_known_bundle_ = bundle;
  well_known_tls_ = std::move(well_known);
  private_tls_ = std::move(private_tls);
  max_response_bytes_ = config.exporter.max_response_bytes;
  runner_.setEnvironment(environment());
  runner_.setMaxConcurrent(config.exporter.max_concurrent_probes);
}

void ProbeScheduler::apply(const Config& config) {
  configureEnvironment(config);

  std::vector<ProbeTarget> targets = expandTargets(config);
  std::map<TargetKey, std::shared_ptr<Entry>> next;
  std::vector<TargetKey> keys;
  std::uint64_t now = uv_hrtime();
  std::size_t order = 0;
  for (auto& t : targets) {
    auto target = std::make_shared<const ProbeTarget>(std::move(t));
    keys.push_back(target->key);
    auto existing = entries_.find(target->key);
    std::shared_ptr<Entry> entry;
    bool reschedule = true;
    if (existing != entries_.end()) {
      entry = existing->second;
      reschedule = entry->target->interval != target->interval;
      entry->machine.setThresholds(target->unhealthy_threshold, target->healthy_threshold);
      entry->target = target;
    } else {
      entry = std::make_shared<Entry>(target);
      entry->status.since_unix_ms = unixMillisNow();
    }
    TargetStatus& s = entry->status;
    s.key = target->key;
    s.order = order++;
    s.protocol = target->protocol;
    s.port = target->port;
    s.path = target->path;
    s.probe_name = target->probe_name;
    s.interval_ms = target->interval.count();
    s.unhealthy_threshold = target->unhealthy_threshold;
    s.healthy_threshold = target->healthy_threshold;
    board_.put(s);
    if (reschedule) {
      std::uint64_t interval_ns = static_cast<std::uint64_t>(target->interval.count()) * kNsPerMs;
      std::uint64_t offset = std::hash<std::string>{}(target->key.str()) % interval_ns;
      schedule(entry, now + offset);
    }
    next.emplace(target->key, std::move(entry));
  }
  entries_ = std::move(next);  // dropped entries close their timers; late results are ignored
  board_.retain(keys);
}

void ProbeScheduler::schedule(const std::shared_ptr<Entry>& entry, std::uint64_t first_due_ns) {
  if (entry->timer == nullptr) {
    entry->timer = new uv_timer_t;
    uv_timer_init(loop_, entry->timer);
  }
  // The entry stops and closes its timer when it dies, so the raw pointer never dangles.
  entry->timer->data = entry.get();
  entry->scheduler = this;
  entry->next_due_ns = first_due_ns;
  armTimer(*entry);
}

void ProbeScheduler::armTimer(Entry& entry) {
  std::uint64_t now = uv_hrtime();
  std::uint64_t delay_ms =
      entry.next_due_ns > now ? (entry.next_due_ns - now + kNsPerMs - 1) / kNsPerMs : 0;
  // Probes due within the same tick start in the same loop turn: their sockets then complete
  // in shared wake-ups, which saves far more CPU (each wake-up is a context switch) than the
  // tick costs in punctuality.
  std::uint64_t loop_now = uv_now(loop_);
  std::uint64_t fire_at = (loop_now + delay_ms + kTickMs - 1) / kTickMs * kTickMs;
  delay_ms = fire_at - loop_now;
  uv_timer_start(
      entry.timer,
      [](uv_timer_t* t) {
        auto* e = static_cast<Entry*>(t->data);
        e->scheduler->onDue(e->shared_from_this());
      },
      delay_ms, 0);
}

void ProbeScheduler::onDue(const std::shared_ptr<Entry>& entry) {
  std::uint64_t due = entry->next_due_ns;
  std::uint64_t interval_ns =
      static_cast<std::uint64_t>(entry->target->interval.count()) * kNsPerMs;
  entry->next_due_ns += interval_ns;
  std::uint64_t now = uv_hrtime();
  if (entry->next_due_ns <= now) {
    entry->next_due_ns = now + interval_ns;  // more than an interval behind: skip, do not burst
  }
  armTimer(*entry);
  if (entry->in_flight) {
    if (entry->waiting_due_ns == 0) {
      entry->waiting_due_ns = due;
    }
    return;
  }
  launch(entry, due);
}

void ProbeScheduler::launch(const std::shared_ptr<Entry>& entry, std::uint64_t due_ns) {
  entry->in_flight = true;
  std::weak_ptr<Entry> weak = entry;
  runner_.submit(entry->target, false, due_ns, [this, weak](ProbeResult result) {
    publishInFlight();
    auto e = weak.lock();
    if (!e) {
      return;  // removed by a reload while its probe ran
    }
    e->in_flight = false;
    onResult(*e, std::move(result));
    if (e->waiting_due_ns != 0) {
      std::uint64_t due = e->waiting_due_ns;
      e->waiting_due_ns = 0;
      launch(e, due);
    }
  });
  publishInFlight();
}

void ProbeScheduler::onResult(Entry& entry, ProbeResult result) {
  TargetStatus& s = entry.status;
  const HealthState before = entry.machine.state();
  s.probes_by_result[result.success ? "success" : std::string(describe(result.reason).name)]++;
  auto transition =
      result.success ? entry.machine.observeSuccess() : entry.machine.observeFailure(result.reason);
  s.state = entry.machine.state();
  s.consecutive_failures = entry.machine.consecutiveFailures();
  s.consecutive_successes = entry.machine.consecutiveSuccesses();
  if (s.state == HealthState::kHealthy) {
    s.reason = Reason::kNotYetProbed;
    if (result.success) {
      s.details = result.details;
    } else {
      s.details = "Last probe failed (" + std::to_string(s.consecutive_failures) + " of " +
                  std::to_string(entry.target->unhealthy_threshold) +
                  " failures before unhealthy): " + std::string(describe(result.reason).name) +
                  ": " + result.details;
    }
  } else {
    s.reason = entry.machine.reason();
    if (!result.success) {
      s.details = result.details;
    }
  }
  if (transition.changed) {
    s.state_changes++;
    s.since_unix_ms = unixMillisNow();
    log::info("backend state changed",
              {{"pool", s.key.pool},
               {"settings", s.key.settings},
               {"server", s.key.server},
               {"old_state", stateName(before)},
               {"new_state", stateName(s.state)},
               {"reason",
                s.state == HealthState::kHealthy ? std::string_view("") : describe(s.reason).name},
               {"details", s.details}});
  }
  result.trace.clear();
  s.last = std::move(result);
  board_.put(s);
}

std::shared_ptr<const ProbeTarget> ProbeScheduler::findTarget(const TargetKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second->target;
}

void ProbeScheduler::probeTarget(std::shared_ptr<const ProbeTarget> target, bool trace,
                                 ProbeDone done) {
  runner_.submit(std::move(target), trace, 0, [this, done = std::move(done)](ProbeResult r) {
    publishInFlight();
    done(std::move(r));
  });
  publishInFlight();
}

void ProbeScheduler::publishInFlight() {
  board_.probes_in_flight = runner_.inFlight();
}

void ProbeScheduler::shutdown() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  runner_.cancelAll();
  entries_.clear();
  if (resolver_) {
    resolver_->cancelAll();
  }
  resolver_.reset();
  runner_.setEnvironment(ProbeEnvironment{});
}

}  // namespace bhe
