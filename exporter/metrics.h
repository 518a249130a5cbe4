// Publishing: renders the metrics of the README from StatusBoard snapshots at scrape time (no
// long-lived per-server Gauge objects, so a reload that drops servers costs nothing and their
// series simply disappear), plus the exporter's own metrics from a prometheus-cpp registry.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/http_message.h"
#include "exporter/windowed_quantiles.h"
#include "probe/publish/status_board.h"

namespace bhe {

struct TargetRow;

// The per-server and per-pool families of one snapshot, written a piece at a time: a scrape
// streams them to its client. Pure. `schedule_families` false: only what a single probe says
// (for /probe), without the counters and pool counts that describe the schedule.
class TargetFamiliesWriter {
 public:
  TargetFamiliesWriter(StatusSnapshot targets, bool schedule_families = true);
  ~TargetFamiliesWriter();
  TargetFamiliesWriter(const TargetFamiliesWriter&) = delete;
  TargetFamiliesWriter& operator=(const TargetFamiliesWriter&) = delete;

  // Appends to `text` until it reaches `until` bytes (a series past it at most) or everything
  // is written. Returns false once everything is.
  bool write(std::string& text, std::size_t until);

 private:
  StatusSnapshot targets_;       // keeps the statuses the rows point into
  std::vector<TargetRow> rows_;  // gathered once, in one pass
  bool schedule_families_;
  std::size_t family_ = 0;  // the family being written
  std::size_t row_ = 0;     // its next row
  bool pool_servers_written_ = false;
};

// The whole of TargetFamiliesWriter's text, appended to `text`.
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
  // The /metrics text of this moment, made as the connection takes it (see BodyStream).
  std::shared_ptr<BodyStream> stream() const;

 private:
  const StatusBoard& board_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge& reload_successful_;
  prometheus::Gauge& reload_success_timestamp_;
  prometheus::Gauge& probes_in_flight_;
  WindowedQuantiles schedule_lag_{std::chrono::seconds(60), 5};  // a minute in 12 s steps
};

}  // namespace bhe
