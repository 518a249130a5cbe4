// Publishing: renders the metrics of the README from StatusBoard snapshots at scrape time (no
// long-lived per-server Gauge objects, so a reload that drops servers costs nothing and their
// series simply disappear), plus the exporter's own metrics from a prometheus-cpp registry.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/text_buffers.h"
#include "exporter/windowed_quantiles.h"
#include "probe/publish/status_board.h"

namespace bhe {

// The per-server and per-pool families of one snapshot, appended to `text`. Pure.
// `schedule_families` false: only what a single probe says (for /probe), without the counters
// and pool counts that describe the schedule.
void writeTargetFamilies(const StatusSnapshot& targets, std::string& text,
                         bool schedule_families = true);
// backend_health_pool_labels: one series per pool with its configured labels (an info metric).
void writePoolLabels(const std::vector<PoolLabels>& pools, std::string& text);
// backend_health_tls_client_cert_not_after_timestamp_seconds: one series per backend settings
// that presents a client certificate.
void writeClientCertificates(const std::vector<std::pair<std::string, std::int64_t>>& certificates,
                             std::string& text);

// backend_health_exporter_schedule_lag_seconds: the summary of `lag` (its p50, p90, p99, sum and
// count).
void writeScheduleLag(const WindowedQuantiles& lag, std::string& text);

class ExporterMetrics {
 public:
  explicit ExporterMetrics(const StatusBoard& board);

  void observeScheduleLag(double seconds);  // thread-safe
  void recordReload(bool success);          // thread-safe
  std::string render() const;               // the whole /metrics text
  // Hands a rendered text back once it has been sent: the next render() writes into it.
  void recycle(std::string&& text) const { texts_.give(std::move(text)); }

 private:
  const StatusBoard& board_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge& reload_successful_;
  prometheus::Gauge& reload_success_timestamp_;
  prometheus::Gauge& probes_in_flight_;
  WindowedQuantiles schedule_lag_{std::chrono::seconds(60), 5};  // a minute in 12 s steps
  mutable std::atomic<std::size_t> last_size_{0};
  mutable TextBuffers texts_;
};

}  // namespace bhe
