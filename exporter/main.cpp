// backend-health-exporter: command-line entry point (flags follow Prometheus exporter style).
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <csignal>
#include <iostream>

#include "common/descriptor_budget.h"
#include "common/log.h"
#include "common/version.h"
#include "exporter/app.h"

int main(int argc, char** argv) {
  // Scrapes render on web handler threads; with one malloc arena per thread the freed rendering
  // buffers stay resident in each arena. Two arenas keep RSS near the working set.
  mallopt(M_ARENA_MAX, 2);
  // Scrape and JSON texts are megabytes, made and freed every few seconds. glibc raises its mmap
  // threshold to the size of the last mmapped block it freed, so without a fixed threshold those
  // texts soon come from the heap and stay resident; with one they are mapped and unmapped.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // A peer that closes while we write (a backend mid-request, a scraper mid-response) must cost
  // an EPIPE on that socket, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "backend-health-exporter: probes backend servers the way Azure Application Gateway does "
      "and exports their health and the reason of every failure as Prometheus metrics."};
  app.set_version_flag("--version", std::string("backend-health-exporter ") + bhe::kBheVersion +
                                        " (revision " + bhe::kBheRevision + ")");
  bhe::ExporterOptions options;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  app.add_option("--config.file", options.config_file, "Path to the TOML configuration file.")
      ->required();
  app.add_option("--web.listen-address", options.listen_address,
                 "Address to listen on for the web interface and telemetry.")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", options.telemetry_path,
                 "Path under which to expose metrics.")
      ->capture_default_str();
  app.add_option("--web.config.file", options.web_config_file,
                 "TOML file with basic_auth_users (bcrypt hashes) and unauthenticated_paths.");
  app.add_flag("--web.enable-arbitrary-probe", options.enable_arbitrary_probe,
               "Allow /probe?target=URL for targets that are not in the configuration.");
  app.add_option("--web.max-concurrent-probes", options.web_max_concurrent_probes,
                 "On-demand /probe calls handled at once, on threads of their own; beyond "
                 "that /probe answers 429 Too Many Requests.")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--config.watch-interval", options.config_watch_interval,
                 "Check the configuration file this often and reload it when it changes "
                 "(e.g. a Kubernetes ConfigMap update); 0s disables.")
      ->capture_default_str();
  app.add_option("--log.level", log_level, "Only log messages with the given severity or above.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log.format", log_format, "Output format of log messages.")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();

  auto* check = app.add_subcommand("check-config",
                                   "Validate the configuration file and exit "
                                   "(0 = valid, 1 = problems printed).");
  check->fallthrough();
  auto* probe =
      app.add_subcommand("probe", "Probe servers from the configuration outside the exporter.");
  probe->fallthrough();
  bool once = false;
  probe
      ->add_flag("--once", once,
                 "Probe every configured server once, print a table and exit (0 = all "
                 "healthy, 1 = not).")
      ->required();
  app.require_subcommand(0, 1);

  CLI11_PARSE(app, argc, argv);
  bhe::log::configure(*bhe::log::parseLevel(log_level), *bhe::log::parseFormat(log_format));

  if (check->parsed()) {
    return bhe::runCheckConfig(options.config_file);
  }
  // Every probe in flight holds a descriptor: the soft limit (often 1024) is only a default, the
  // hard limit is what the administrator granted.
  const bhe::NoFileLimit limit = bhe::raiseNoFileLimit();
  const auto level = probe->parsed() ? bhe::log::Level::kDebug : bhe::log::Level::kInfo;
  if (bhe::log::enabled(level)) {
    bhe::log::write(level, "file descriptor limit",
                    {{"soft_at_start", limit.soft_before},
                     {"soft", limit.soft},
                     {"hard", limit.hard},
                     {"kept_for_the_web_surface", bhe::descriptorReserve(limit.soft)}});
  }
  if (!limit.error.empty()) {
    bhe::log::warn("cannot raise the file descriptor limit to the hard limit",
                   {{"error", limit.error}});
  }
  if (probe->parsed()) {
    return bhe::runProbeOnce(options.config_file);
  }
  return bhe::runExporter(options);
}
