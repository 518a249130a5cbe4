// The three ways the binary runs: the long-running exporter, check-config and probe --once.
#pragma once

#include <string>

namespace bhe {

struct ExporterOptions {
  std::string config_file;
  std::string listen_address = ":9985";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;               // basic auth; empty = none
  bool enable_arbitrary_probe = false;       // /probe?target=URL
  std::string config_watch_interval = "0s";  // poll the config file and reload on change
  int web_max_concurrent_probes = 8;         // /probe calls at once; beyond: 429
};

int runExporter(const ExporterOptions& options);
int runCheckConfig(const std::string& config_file);
int runProbeOnce(const std::string& config_file);

}  // namespace bhe
