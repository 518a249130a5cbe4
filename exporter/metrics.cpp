#include "exporter/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <functional>
#include <map>
#include <sstream>
#include <tuple>

#include "common/version.h"

namespace bhe {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

std::vector<ClientMetric::Label> serverLabels(const TargetKey& key) {
  return {{"pool", key.pool}, {"settings", key.settings}, {"server", key.server}};
}

void addGauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void addCounter(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

std::vector<ClientMetric::Label> with(std::vector<ClientMetric::Label> labels, std::string name,
                                      std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

}  // namespace

namespace {

// One per-server family: its name, help, type, and what one target contributes to it.
struct TargetFamily {
  const char* name;
  const char* help;
  MetricType type;
  void (*append)(const TargetStatus& t, const std::vector<ClientMetric::Label>& labels,
                 MetricFamily& f);
};

const TargetFamily kTargetFamilies[] = {
    {"backend_health_server_state",
     "Health state of each (pool, settings, server): 1 for the current state, 0 for the other "
     "two.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       for (HealthState s : kAllStates) {
         addGauge(f, with(labels, "state", std::string(stateName(s))), t.state == s ? 1 : 0);
       }
     }},
    {"backend_health_server_failure_reason",
     "Why a server is not healthy: one series with value 1 while the state is unhealthy or "
     "unknown, none while healthy.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.state != HealthState::kHealthy) {
         const auto& info = describe(t.reason);
         addGauge(f,
                  with(with(labels, "category", std::string(info.category)), "reason",
                       std::string(info.name)),
                  1);
       }
     }},
    {"backend_health_probe_success", "Whether the last probe succeeded (1/0).", MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.last) {
         addGauge(f, labels, t.last->success ? 1 : 0);
       }
     }},
    {"backend_health_probe_duration_seconds",
     "Duration of each phase of the last probe (0 for a phase not reached).", MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (!t.last) {
         return;
       }
       const PhaseSeconds& s = t.last->seconds;
       addGauge(f, with(labels, "phase", "dns"), s.dns);
       addGauge(f, with(labels, "phase", "connect"), s.connect);
       if (t.target->protocol == Protocol::kHttps) {
         addGauge(f, with(labels, "phase", "tls"), s.tls);
       }
       addGauge(f, with(labels, "phase", "http"), s.http);
       addGauge(f, with(labels, "phase", "total"), s.total);
     }},
    {"backend_health_probe_http_status_code", "HTTP status received by the last probe (0 = none).",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.last) {
         addGauge(f, labels, t.last->http_status);
       }
     }},
    {"backend_health_probes_total",
     "Probes completed, by result (\"success\" or the failure reason).", MetricType::Counter,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.probes.success > 0) {
         addCounter(f, with(labels, "result", "success"), static_cast<double>(t.probes.success));
       }
       for (const auto& info : allReasons()) {
         if (auto count = t.probes.failures[static_cast<std::size_t>(info.reason)]; count > 0) {
           addCounter(f, with(labels, "result", std::string(info.name)),
                      static_cast<double>(count));
         }
       }
     }},
    {"backend_health_state_changes_total", "Transitions between health states.",
     MetricType::Counter,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       addCounter(f, labels, static_cast<double>(t.state_changes));
     }},
    {"backend_health_tls_cert_not_after_timestamp_seconds",
     "Expiry (unix time) of the leaf and of the earliest-expiring certificate presented on the "
     "last TLS probe.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (!t.last || !t.last->tls) {
         return;
       }
       const TlsObservation& tls = *t.last->tls;
       if (tls.leaf_not_after) {
         addGauge(f, with(labels, "position", "leaf"), static_cast<double>(*tls.leaf_not_after));
       }
       if (tls.chain_earliest_not_after) {
         addGauge(f, with(labels, "position", "chain_earliest"),
                  static_cast<double>(*tls.chain_earliest_not_after));
       }
     }},
    {"backend_health_dns_stale",
     "1 while the server is probed at its last-known-good address because DNS resolution fails.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.last) {
         addGauge(f, labels, t.last->dns_stale ? 1 : 0);
       }
     }},
    {"backend_health_address_state",
     "Health state of each resolved address of an FQDN server: 1 for the current state, 0 for "
     "the other two.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       if (t.target->server_is_ip) {
         return;
       }
       for (const auto& member : t.addresses) {
         if (member.standIn()) {
           continue;
         }
         auto with_address = with(labels, "address", member.address);
         for (HealthState s : kAllStates) {
           addGauge(f, with(with_address, "state", std::string(stateName(s))),
                    member.state == s ? 1 : 0);
         }
       }
     }},
    {"backend_health_server_addresses",
     "Addresses (members) of each server, by health state; the server is healthy only when "
     "every member is.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       std::array<int, 3> per_state{};
       for (const auto& member : t.addresses) {
         if (!member.standIn()) {
           per_state[static_cast<int>(member.state)]++;
         }
       }
       for (HealthState s : kAllStates) {
         addGauge(f, with(labels, "state", std::string(stateName(s))),
                  per_state[static_cast<int>(s)]);
       }
     }},
    {"backend_health_server_draining",
     "1 while the server is listed in its pool's draining list (being taken out of service), "
     "else 0.",
     MetricType::Gauge,
     [](const TargetStatus& t, const auto& labels, MetricFamily& f) {
       addGauge(f, labels, t.target->draining ? 1 : 0);
     }},
};

MetricFamily poolServersFamily(const StatusSnapshot& targets) {
  auto f = family("backend_health_pool_servers",
                  "Servers of each pool and settings, by health state.", MetricType::Gauge);
  std::map<std::tuple<std::string, std::string>, std::array<int, 3>> per_pool;
  for (const auto& t : targets) {
    per_pool[{t->key().pool, t->key().settings}][static_cast<int>(t->state)]++;
  }
  for (const auto& [key, counts] : per_pool) {
    for (HealthState s : kAllStates) {
      addGauge(f,
               {{"pool", std::get<0>(key)},
                {"settings", std::get<1>(key)},
                {"state", std::string(stateName(s))}},
               counts[static_cast<int>(s)]);
    }
  }
  return f;
}

}  // namespace

void forEachTargetFamily(const StatusSnapshot& targets,
                         const std::function<void(MetricFamily&&)>& emit) {
  for (const TargetFamily& spec : kTargetFamilies) {
    MetricFamily f = family(spec.name, spec.help, spec.type);
    for (const auto& t : targets) {
      spec.append(*t, serverLabels(t->key()), f);
    }
    emit(std::move(f));
  }
  emit(poolServersFamily(targets));
}

MetricFamily poolLabelsFamily(const std::vector<PoolLabels>& pools) {
  auto f = family("backend_health_pool_labels",
                  "The labels configured for each backend pool; the value is always 1.",
                  MetricType::Gauge);
  for (const auto& pool : pools) {
    std::vector<ClientMetric::Label> labels{{"pool", pool.pool}};
    for (const auto& label : pool.labels) {
      labels.push_back({label.name, label.value});
    }
    addGauge(f, std::move(labels), 1);
  }
  return f;
}

MetricFamily clientCertificatesFamily(
    const std::vector<std::pair<std::string, std::int64_t>>& certificates) {
  auto f = family("backend_health_tls_client_cert_not_after_timestamp_seconds",
                  "Expiry (unix time) of the client certificate presented for mutual TLS.",
                  MetricType::Gauge);
  for (const auto& [settings, not_after] : certificates) {
    addGauge(f, {{"settings", settings}}, static_cast<double>(not_after));
  }
  return f;
}

std::vector<MetricFamily> collectTargetFamilies(const StatusSnapshot& targets) {
  std::vector<MetricFamily> out;
  forEachTargetFamily(targets, [&](MetricFamily&& f) { out.push_back(std::move(f)); });
  return out;
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
                            .Add({})),
      schedule_lag_(
          prometheus::BuildSummary()
              .Name("backend_health_exporter_schedule_lag_seconds")
              .Help("How late probes start against their schedule (queueing behind "
                    "max_concurrent_probes, loop delays), over the last minute.")
              .Register(*registry_)
              .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}},
                   std::chrono::seconds(60), 5)) {
  prometheus::BuildGauge()
      .Name("backend_health_exporter_build_info")
      .Help("Build information of the exporter; the value is always 1.")
      .Register(*registry_)
      .Add({{"version", kBheVersion}, {"revision", kBheRevision}})
      .Set(1);
}

void ExporterMetrics::observeScheduleLag(double seconds) {
  schedule_lag_.Observe(seconds);
}

void ExporterMetrics::recordReload(bool success) {
  reload_successful_.Set(success ? 1 : 0);
  if (success) {
    reload_success_timestamp_.SetToCurrentTime();
  }
}

std::string ExporterMetrics::render() const {
  probes_in_flight_.Set(board_.probes_in_flight.load());
  // One family at a time: a scrape of 10,000 servers makes ~150,000 series, and holding them all
  // as prometheus-cpp objects at once would set a needlessly high memory high-water mark.
  std::ostringstream out;
  prometheus::TextSerializer serializer;
  auto serialize = [&](MetricFamily&& f) {
    std::vector<MetricFamily> one;
    one.push_back(std::move(f));
    serializer.Serialize(out, one);
  };
  forEachTargetFamily(board_.snapshot(), serialize);
  const auto facts = board_.configFacts();
  serialize(poolLabelsFamily(facts->pools));
  serialize(clientCertificatesFamily(facts->client_certificates));
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace bhe
