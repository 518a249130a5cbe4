#include "exporter/metrics.h"

#include <prometheus/text_serializer.h>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "common/version.h"
#include "exporter/exposition.h"

namespace bhe {
namespace {

std::string_view stateLabel(HealthState s) {
  return stateName(s);
}

}  // namespace

// What the families read of one target, gathered in one pass. A status, its last probe and its
// target are three objects apart in the heap: with each of the twelve families reading them
// anew, a scrape of 10,000 servers missed the cache three times per target and family, which
// was most of its time. The rows are contiguous, so the family passes read memory in order.
struct TargetRow {
  const TargetStatus* status;  // the rest: counters by reason, members (two families)
  RenderedLabels labels;       // pool, settings, server: escaped once for every family
  HealthState state;
  Reason reason;
  bool probed;  // has a last probe: the per-probe families have series
  bool success;
  bool https;
  bool server_is_ip;
  bool draining;
  bool dns_stale;
  int http_status;
  PhaseSeconds seconds;
  std::optional<std::int64_t> leaf_not_after;
  std::optional<std::int64_t> chain_earliest_not_after;
  std::array<int, 3> members_per_state;  // members with an address, by state
  std::uint64_t state_changes;
};

namespace {

TargetRow rowOf(const TargetStatus& t) {
  const TargetKey& key = t.key();
  TargetRow row{
      .status = &t,
      .labels =
          escapedLabels({{"pool", key.pool}, {"settings", key.settings}, {"server", key.server}}),
      .state = t.state,
      .reason = t.reason,
      .probed = false,
      .success = false,
      .https = t.target->protocol == Protocol::kHttps,
      .server_is_ip = t.target->server_is_ip,
      .draining = t.target->draining,
      .dns_stale = false,
      .http_status = 0,
      .seconds = {},
      .leaf_not_after = {},
      .chain_earliest_not_after = {},
      .members_per_state = {},
      .state_changes = t.state_changes,
  };
  if (const ProbeResult* last = t.last.get()) {
    row.probed = true;
    row.success = last->success;
    row.dns_stale = last->dns_stale;
    row.http_status = last->http_status;
    row.seconds = last->seconds;
    if (last->tls) {
      row.leaf_not_after = last->tls->leaf_not_after;
      row.chain_earliest_not_after = last->tls->chain_earliest_not_after;
    }
  }
  for (const auto& member : t.addresses) {
    if (!member.standIn()) {
      row.members_per_state[static_cast<int>(member.state)]++;
    }
  }
  return row;
}

// One per-server family: its name, help, type, and what one target contributes to it.
struct TargetFamily {
  const char* name;
  const char* help;
  const char* type;
  // false: describes the schedule (counters), not one probe: left out of /probe's output.
  bool per_probe;
  void (*append)(const TargetRow& t, Exposition& out);
  // For a family that reads more of a target than its row: asks for that memory a few rows
  // ahead (see prefetchStatus).
  void (*prefetch)(const TargetRow& t) = nullptr;
};

const TargetFamily kTargetFamilies[] = {
    {"backend_health_server_state",
     "Health state of each (pool, settings, server): 1 for the current state, 0 for the other "
     "two.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       for (HealthState s : kAllStates) {
         out.series(t.labels, {{"state", stateLabel(s)}}, t.state == s ? 1 : 0);
       }
     }},
    {"backend_health_server_failure_reason",
     "Why a server is not healthy: one series with value 1 while the state is unhealthy or "
     "unknown, none while healthy.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.state != HealthState::kHealthy) {
         const auto& info = describe(t.reason);
         out.series(t.labels, {{"category", info.category}, {"reason", info.name}}, 1);
       }
     }},
    {"backend_health_probe_success", "Whether the last probe succeeded (1/0).", "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.probed) {
         out.series(t.labels, {}, t.success ? 1 : 0);
       }
     }},
    {"backend_health_probe_duration_seconds",
     "Duration of each phase of the last probe (0 for a phase not reached).", "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (!t.probed) {
         return;
       }
       const PhaseSeconds& s = t.seconds;
       out.series(t.labels, {{"phase", "dns"}}, s.dns);
       out.series(t.labels, {{"phase", "connect"}}, s.connect);
       if (t.https) {
         out.series(t.labels, {{"phase", "tls"}}, s.tls);
       }
       out.series(t.labels, {{"phase", "http"}}, s.http);
       out.series(t.labels, {{"phase", "total"}}, s.total);
     }},
    {"backend_health_probe_http_status_code", "HTTP status received by the last probe (0 = none).",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.probed) {
         out.series(t.labels, {}, t.http_status);
       }
     }},
    {"backend_health_probes_total",
     "Probes completed, by result (\"success\" or the failure reason).", "counter", false,
     [](const TargetRow& t, Exposition& out) {
       const ProbeCounts& probes = t.status->probes;
       if (probes.success > 0) {
         out.series(t.labels, {{"result", "success"}}, static_cast<double>(probes.success));
       }
       for (const auto& info : allReasons()) {
         if (auto count = probes.failures[static_cast<std::size_t>(info.reason)]; count > 0) {
           out.series(t.labels, {{"result", info.name}}, static_cast<double>(count));
         }
       }
     },
     [](const TargetRow& t) {
       const ProbeCounts& probes = t.status->probes;
       for (std::size_t at = 0; at < sizeof probes; at += 64) {
         __builtin_prefetch(reinterpret_cast<const char*>(&probes) + at);
       }
     }},
    {"backend_health_state_changes_total", "Transitions between health states.", "counter", false,
     [](const TargetRow& t, Exposition& out) {
       out.series(t.labels, {}, static_cast<double>(t.state_changes));
     }},
    {"backend_health_tls_cert_not_after_timestamp_seconds",
     "Expiry (unix time) of the leaf and of the earliest-expiring certificate presented on the "
     "last TLS probe.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.leaf_not_after) {
         out.series(t.labels, {{"position", "leaf"}}, static_cast<double>(*t.leaf_not_after));
       }
       if (t.chain_earliest_not_after) {
         out.series(t.labels, {{"position", "chain_earliest"}},
                    static_cast<double>(*t.chain_earliest_not_after));
       }
     }},
    {"backend_health_dns_stale",
     "1 while the server is probed at its last-known-good address because DNS resolution fails.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.probed) {
         out.series(t.labels, {}, t.dns_stale ? 1 : 0);
       }
     }},
    {"backend_health_address_state",
     "Health state of each resolved address of an FQDN server: 1 for the current state, 0 for "
     "the other two.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       if (t.server_is_ip) {
         return;
       }
       for (const auto& member : t.status->addresses) {
         if (member.standIn()) {
           continue;
         }
         for (HealthState s : kAllStates) {
           out.series(t.labels, {{"address", member.address}, {"state", stateLabel(s)}},
                      member.state == s ? 1 : 0);
         }
       }
     }},
    {"backend_health_server_addresses",
     "Addresses (members) of each server, by health state; the server is healthy only when "
     "every member is.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) {
       for (HealthState s : kAllStates) {
         out.series(t.labels, {{"state", stateLabel(s)}}, t.members_per_state[static_cast<int>(s)]);
       }
     }},
    {"backend_health_server_draining",
     "1 while the server is listed in its pool's draining list (being taken out of service), "
     "else 0.",
     "gauge", true,
     [](const TargetRow& t, Exposition& out) { out.series(t.labels, {}, t.draining ? 1 : 0); }},
};

void writePoolServers(const StatusSnapshot& targets, Exposition& out) {
  out.family("backend_health_pool_servers", "Servers of each pool and settings, by health state.",
             "gauge");
  // Views into the snapshot's targets, which outlive this call. Targets come in config order,
  // a pool's settings together, so one lookup per run of equal keys counts them all: a lookup
  // per target (two string copies, a dozen string comparisons) was a tenth of a 10,000-server
  // scrape.
  using PoolKey = std::pair<std::string_view, std::string_view>;
  std::map<PoolKey, std::array<int, 3>> per_pool;
  std::array<int, 3>* counts_of_run = nullptr;
  PoolKey run_key;
  for (const auto& t : targets) {
    const PoolKey key{t->key().pool, t->key().settings};
    if (counts_of_run == nullptr || key != run_key) {
      counts_of_run = &per_pool[key];
      run_key = key;
    }
    (*counts_of_run)[static_cast<int>(t->state)]++;
  }
  for (const auto& [key, counts] : per_pool) {
    const RenderedLabels labels = escapedLabels({{"pool", key.first}, {"settings", key.second}});
    for (HealthState s : kAllStates) {
      out.series(labels, {{"state", stateLabel(s)}}, counts[static_cast<int>(s)]);
    }
  }
}

// A row reads four objects of its target (the status, the target, the last probe, the first
// member), each a cache miss away in a scrape of thousands of servers: waiting for them one
// after another was most of the time rows took. The status of a target a few rows ahead is
// requested first, and once it has arrived, the objects it points to.
constexpr std::size_t kStatusesAhead = 8;
constexpr std::size_t kObjectsAhead = 4;

void prefetchStatus(const TargetStatus& t) {
  __builtin_prefetch(&t);
  __builtin_prefetch(&t.last);
  __builtin_prefetch(&t.addresses);
}

void prefetchObjectsOf(const TargetStatus& t) {
  __builtin_prefetch(t.target.get());
  __builtin_prefetch(&t.target->draining);
  if (const ProbeResult* last = t.last.get()) {
    __builtin_prefetch(last);
    __builtin_prefetch(&last->tls);
  }
  __builtin_prefetch(t.addresses.data());
}

}  // namespace

TargetFamiliesWriter::TargetFamiliesWriter(StatusSnapshot targets, bool schedule_families)
    : targets_(std::move(targets)), schedule_families_(schedule_families) {
  const std::size_t n = targets_.size();
  rows_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kStatusesAhead < n) {
      prefetchStatus(*targets_[i + kStatusesAhead]);
    }
    if (i + kObjectsAhead < n) {
      prefetchObjectsOf(*targets_[i + kObjectsAhead]);
    }
    rows_.push_back(rowOf(*targets_[i]));
  }
}

TargetFamiliesWriter::~TargetFamiliesWriter() = default;

bool TargetFamiliesWriter::write(std::string& text, std::size_t until) {
  Exposition out(text);
  for (; family_ < std::size(kTargetFamilies); ++family_, row_ = 0) {
    const TargetFamily& spec = kTargetFamilies[family_];
    if (!spec.per_probe && !schedule_families_) {
      continue;
    }
    if (row_ == 0) {
      out.family(spec.name, spec.help, spec.type);
    } else {
      out.resumeFamily(spec.name);
    }
    while (row_ < rows_.size()) {
      if (spec.prefetch != nullptr && row_ + kStatusesAhead < rows_.size()) {
        spec.prefetch(rows_[row_ + kStatusesAhead]);
      }
      spec.append(rows_[row_++], out);
      if (text.size() >= until) {
        return true;
      }
    }
  }
  if (schedule_families_ && !pool_servers_written_) {
    pool_servers_written_ = true;
    writePoolServers(targets_, out);
  }
  return false;
}

void writeTargetFamilies(const StatusSnapshot& targets, std::string& text, bool schedule_families) {
  TargetFamiliesWriter(targets, schedule_families).write(text, SIZE_MAX);
}

void writePoolLabels(const std::vector<PoolLabels>& pools, std::string& text) {
  Exposition out(text);
  out.family("backend_health_pool_labels",
             "The labels configured for each backend pool; the value is always 1.", "gauge");
  for (const auto& pool : pools) {
    // The pool's own labels are names the config validated; their values are escaped here.
    RenderedLabels rendered = escapedLabels({{"pool", pool.pool}});
    for (const auto& label : pool.labels) {
      rendered.text += ',' + escapedLabels({{label.name, label.value}}).text;
    }
    out.series(rendered, {}, 1);
  }
}

void writeClientCertificates(const std::vector<std::pair<std::string, std::int64_t>>& certificates,
                             std::string& text) {
  Exposition out(text);
  out.family("backend_health_tls_client_cert_not_after_timestamp_seconds",
             "Expiry (unix time) of the client certificate presented for mutual TLS.", "gauge");
  for (const auto& [settings, not_after] : certificates) {
    out.series(escapedLabels({{"settings", settings}}), {}, static_cast<double>(not_after));
  }
}

ExporterMetrics::ExporterMetrics(const StatusBoard& board)
    : board_(board),
      registry_(std::make_shared<prometheus::Registry>()),
      reload_successful_(prometheus::BuildGauge()
                             .Name("backend_health_exporter_config_last_reload_successful")
                             .Help("Whether the last configuration load or reload succeeded.")
                             .Register(*registry_)
                             .Add({})),
      reload_success_timestamp_(
          prometheus::BuildGauge()
              .Name("backend_health_exporter_config_last_reload_success_timestamp_seconds")
              .Help("Unix time of the last successful configuration load or reload.")
              .Register(*registry_)
              .Add({})),
      probes_in_flight_(prometheus::BuildGauge()
                            .Name("backend_health_exporter_probes_in_flight")
                            .Help("Probes running right now.")
                            .Register(*registry_)
                            .Add({})) {
  prometheus::BuildGauge()
      .Name("backend_health_exporter_build_info")
      .Help("Build information of the exporter; the value is always 1.")
      .Register(*registry_)
      .Add({{"version", kBheVersion}, {"revision", kBheRevision}})
      .Set(1);
}

void ExporterMetrics::observeScheduleLag(double seconds) {
  schedule_lag_.observe(seconds);
}

void writeScheduleLag(const WindowedQuantiles& lag, std::string& text) {
  Exposition out(text);
  out.family("backend_health_exporter_schedule_lag_seconds",
             "How late probes start against their schedule (queueing behind "
             "max_concurrent_probes, loop delays), over the last minute.",
             "summary");
  const RenderedLabels none;
  const std::pair<std::string_view, double> quantiles[] = {
      {"0.5", 0.5}, {"0.9", 0.9}, {"0.99", 0.99}};
  for (const auto& [label, q] : quantiles) {
    out.series(none, {{"quantile", label}}, lag.quantile(q));
  }
  out.suffixedSeries("_sum", none, {}, lag.sum());
  out.suffixedSeries("_count", none, {}, static_cast<double>(lag.count()));
}

void ExporterMetrics::recordReload(bool success) {
  reload_successful_.Set(success ? 1 : 0);
  if (success) {
    reload_success_timestamp_.SetToCurrentTime();
  }
}

namespace {

// The /metrics text of one moment: the per-server families streamed from their rows, then the
// rest (small), rendered when the scrape began.
class MetricsStream final : public BodyStream {
 public:
  MetricsStream(StatusSnapshot targets, std::string rest)
      : targets_(std::move(targets)), rest_(std::move(rest)) {}

  bool next(std::string& out, std::size_t until) override {
    if (targets_.write(out, until)) {
      return true;
    }
    out += rest_;
    return false;
  }

 private:
  TargetFamiliesWriter targets_;
  std::string rest_;
};

}  // namespace

std::shared_ptr<BodyStream> ExporterMetrics::stream() const {
  probes_in_flight_.Set(board_.probes_in_flight.load());
  // Facts before targets: a reload publishes its targets first, so a scrape that shows a
  // reload's pool labels also shows its servers (their draining flags, their labels).
  const auto facts = board_.configFacts();
  StatusSnapshot targets = board_.snapshot();
  std::string rest;
  writePoolLabels(facts->pools, rest);
  writeClientCertificates(facts->client_certificates, rest);
  writeScheduleLag(schedule_lag_, rest);
  rest += prometheus::TextSerializer().Serialize(registry_->Collect());
  return std::make_shared<MetricsStream>(std::move(targets), std::move(rest));
}

}  // namespace bhe
