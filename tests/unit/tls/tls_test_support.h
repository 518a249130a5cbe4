// Shared helpers of the TLS unit tests: the PKI generated at test time by
// tests/fixtures/tls/make-pki.sh, certificate loading, and scenario servers started through
// tests/fixtures/tls/scenarios.py on a free 127.0.0.1 port.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "pki/trust_anchors.h"
#include "pki/x509.h"

namespace bhe::test {

// The PKI directory: $BHE_TLS_PKI_DIR when ctest's fixture made it, else generated once per
// process into a temporary directory that is removed at exit.
const std::string& pkiDir();
std::string pkiPath(const std::string& file);

// Every certificate of the PKI files, concatenated in order (e.g. {"good.pem", "chain-int.pem"}
// is what a server with -cert good.pem -cert_chain chain-int.pem presents).
std::vector<Der> loadCerts(std::initializer_list<std::string> files);
std::vector<Der> loadCerts(const std::vector<std::string>& files);
Der loadCert(const std::string& file);  // the first certificate of the file
std::shared_ptr<const TrustAnchors> anchorsFrom(std::initializer_list<std::string> files);
std::shared_ptr<const TrustAnchors> wellKnownBundle();  // well-known-bundle.pem

std::string fixturesDir();

// One row of scenarios.py's table (`scenarios.py list --json`).
struct ScenarioRow {
  std::string name;
  std::string kind;    // "tls" | "plain_http" | "stall"
  std::string reason;  // contract reason name, "healthy" for none
  std::string details;
  std::string host;
  bool well_known = false;
  std::vector<std::string> trusted_roots;
  std::vector<std::string> presented;  // PKI files, wire order
};
const std::vector<ScenarioRow>& scenarioTable();
std::string runAndCapture(const std::string& command);  // stdout of `sh -c command`

// `scenarios.py serve NAME` as a child process. The child's stdin is a pipe we hold, so it
// exits (and stops its server) even if this test process dies.
class ScenarioServer {
 public:
  explicit ScenarioServer(const std::string& name);
  ~ScenarioServer();
  ScenarioServer(const ScenarioServer&) = delete;
  ScenarioServer& operator=(const ScenarioServer&) = delete;
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

}  // namespace bhe::test
