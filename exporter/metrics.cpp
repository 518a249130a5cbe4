#include "exporter/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <map>
#include <tuple>

#include "probe/version.h"

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

std::vector<MetricFamily> collectTargetFamilies(const std::vector<TargetStatus>& targets) {
  auto state = family("backend_health_server_state",
                      "Health state of each (pool, settings, server): 1 for the current state, 0 "
                      "for the other two.",
                      MetricType::Gauge);
  auto reason = family("backend_health_server_failure_reason",
                       "Why a server is not healthy: one series with value 1 while the state is "
                       "unhealthy or unknown, none while healthy.",
                       MetricType::Gauge);
  auto success = family("backend_health_probe_success", "Whether the last probe succeeded (1/0).",
                        MetricType::Gauge);
  auto duration = family("backend_health_probe_duration_seconds",
                         "Duration of each phase of the last probe (0 for a phase not reached).",
                         MetricType::Gauge);
  auto status_code =
      family("backend_health_probe_http_status_code",
             "HTTP status received by the last probe (0 = none).", MetricType::Gauge);
  auto probes = family("backend_health_probes_total",
                       "Probes completed, by result (\"success\" or the failure reason).",
                       MetricType::Counter);
  auto changes = family("backend_health_state_changes_total", "Transitions between health states.",
                        MetricType::Counter);
  auto not_after = family("backend_health_tls_cert_not_after_timestamp_seconds",
                          "Expiry (unix time) of the leaf and of the earliest-expiring "
                          "certificate presented on the last TLS probe.",
                          MetricType::Gauge);
  auto stale = family("backend_health_dns_stale",
                      "1 while the server is probed at its last-known-good address because DNS "
                      "resolution fails.",
                      MetricType::Gauge);
  auto pool_servers =
      family("backend_health_pool_servers", "Servers of each pool and settings, by health state.",
             MetricType::Gauge);

  std::map<std::tuple<std::string, std::string>, std::array<int, 3>> per_pool;
  for (const auto& t : targets) {
    auto labels = serverLabels(t.key);
    for (HealthState s : kAllStates) {
      addGauge(state, with(labels, "state", std::string(stateName(s))), t.state == s ? 1 : 0);
    }
    per_pool[{t.key.pool, t.key.settings}][static_cast<int>(t.state)]++;
    if (t.state != HealthState::kHealthy) {
      const auto& info = describe(t.reason);
      auto l = with(labels, "category", std::string(info.category));
      addGauge(reason, with(std::move(l), "reason", std::string(info.name)), 1);
    }
    addCounter(changes, labels, static_cast<double>(t.state_changes));
    for (const auto& [result, count] : t.probes_by_result) {
      addCounter(probes, with(labels, "result", result), static_cast<double>(count));
    }
    if (!t.last) {
      continue;
    }
    const ProbeResult& r = *t.last;
    addGauge(success, labels, r.success ? 1 : 0);
    addGauge(status_code, labels, r.http_status);
    addGauge(stale, labels, r.dns_stale ? 1 : 0);
    addGauge(duration, with(labels, "phase", "dns"), r.seconds.dns);
    addGauge(duration, with(labels, "phase", "connect"), r.seconds.connect);
    if (t.protocol == Protocol::kHttps) {
      addGauge(duration, with(labels, "phase", "tls"), r.seconds.tls);
    }
    addGauge(duration, with(labels, "phase", "http"), r.seconds.http);
    addGauge(duration, with(labels, "phase", "total"), r.seconds.total);
    if (r.tls) {
      if (r.tls->leaf_not_after) {
        addGauge(not_after, with(labels, "position", "leaf"),
                 static_cast<double>(*r.tls->leaf_not_after));
      }
      if (r.tls->chain_earliest_not_after) {
        addGauge(not_after, with(labels, "position", "chain_earliest"),
                 static_cast<double>(*r.tls->chain_earliest_not_after));
      }
    }
  }
  for (const auto& [key, counts] : per_pool) {
    for (HealthState s : kAllStates) {
      addGauge(pool_servers,
               {{"pool", std::get<0>(key)},
                {"settings", std::get<1>(key)},
                {"state", std::string(stateName(s))}},
               counts[static_cast<int>(s)]);
    }
  }
  std::vector<MetricFamily> out;
  for (auto* f : {&state, &reason, &success, &duration, &status_code, &probes, &changes, &not_after,
                  &stale, &pool_servers}) {
    out.push_back(std::move(*f));
  }
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
  auto families = collectTargetFamilies(board_.snapshot());
  auto own = registry_->Collect();
  families.insert(families.end(), std::make_move_iterator(own.begin()),
                  std::make_move_iterator(own.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace bhe
