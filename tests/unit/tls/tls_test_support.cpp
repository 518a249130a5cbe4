#include "tls_test_support.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pki/certificate_file.h"

namespace bhe::test {
namespace {

class PkiEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!owned_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(owned_dir_, ec);
    }
  }
  std::string owned_dir_;
};

PkiEnvironment* environment() {
  static PkiEnvironment* env =
      static_cast<PkiEnvironment*>(::testing::AddGlobalTestEnvironment(new PkiEnvironment));
  return env;
}
// Registered before RUN_ALL_TESTS so its TearDown removes a PKI we generated ourselves.
[[maybe_unused]] PkiEnvironment* const kRegistered = environment();

}  // namespace

std::string fixturesDir() {
  return BHE_TLS_FIXTURES_DIR;
}

std::string runAndCapture(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) {
    throw std::runtime_error("popen failed: " + command);
  }
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe.get())) > 0) {
    out.append(buffer, n);
  }
  return out;
}

const std::vector<ScenarioRow>& scenarioTable() {
  static const std::vector<ScenarioRow> rows = [] {
    const auto json = nlohmann::json::parse(
        runAndCapture("/usr/bin/python3 " + fixturesDir() + "/scenarios.py list --json"));
    std::vector<ScenarioRow> out;
    for (const auto& sc : json) {
      ScenarioRow row;
      row.name = sc["name"];
      row.kind = sc["kind"];
      row.reason = sc["reason"].is_null() ? "healthy" : sc["reason"].get<std::string>();
      row.details = sc["details"];
      row.host = sc["host"];
      row.well_known = sc["trust"] == "well_known";
      row.trusted_roots = sc["trusted_roots"].get<std::vector<std::string>>();
      row.presented = sc["presented"].get<std::vector<std::string>>();
      out.push_back(std::move(row));
    }
    return out;
  }();
  return rows;
}

const std::string& pkiDir() {
  static const std::string dir = [] {
    const char* from_ctest = std::getenv("BHE_TLS_PKI_DIR");
    if (from_ctest != nullptr && std::filesystem::exists(std::string(from_ctest) + "/root.pem")) {
      return std::string(from_ctest);
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "bhe-tls-pki-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    environment()->owned_dir_ = tmpl;
    const std::string cmd = fixturesDir() + "/make-pki.sh " + tmpl + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      throw std::runtime_error("make-pki.sh failed");
    }
    return tmpl;
  }();
  return dir;
}

std::string pkiPath(const std::string& file) {
  return pkiDir() + "/" + file;
}

std::vector<Der> loadCerts(const std::vector<std::string>& files) {
  std::vector<Der> out;
  for (const auto& f : files) {
    CertificateFile file = readCertificateFile(pkiPath(f));
    if (!file.ok()) {
      throw std::runtime_error(f + ": " + file.error);
    }
    out.insert(out.end(), file.certificates.begin(), file.certificates.end());
  }
  return out;
}

std::vector<Der> loadCerts(std::initializer_list<std::string> files) {
  return loadCerts(std::vector<std::string>(files));
}

Der loadCert(const std::string& file) {
  return loadCerts({file}).at(0);
}

std::shared_ptr<const TrustAnchors> anchorsFrom(std::initializer_list<std::string> files) {
  return TrustAnchors::fromCertificates(loadCerts(files));
}

std::shared_ptr<const TrustAnchors> wellKnownBundle() {
  static const auto bundle = [] {
    std::string error;
    auto anchors = TrustAnchors::fromFile(pkiPath("well-known-bundle.pem"), &error);
    if (!anchors) {
      throw std::runtime_error("well-known-bundle.pem: " + error);
    }
    return anchors;
  }();
  return bundle;
}

ScenarioServer::ScenarioServer(const std::string& name) {
  int in_pipe[2];
  int out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const std::string script = fixturesDir() + "/scenarios.py";
  const std::string pki = pkiDir();
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    // argv[0] is the full path: Python derives sys.executable from it, and the scenario
    // script starts helper servers with sys.executable.
    execl("/usr/bin/python3", "/usr/bin/python3", script.c_str(), "serve", name.c_str(), "--pki",
          pki.c_str(), "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  // The first line is "ACCEPT 127.0.0.1:<port>" once the server listens.
  std::string line;
  char c;
  while (read(stdout_fd_, &c, 1) == 1 && c != '\n') {
    line += c;
  }
  const auto colon = line.rfind(':');
  if (!line.starts_with("ACCEPT ") || colon == std::string::npos) {
    throw std::runtime_error("scenario " + name + " did not start: '" + line + "'");
  }
  port_ = std::stoi(line.substr(colon + 1));
}

ScenarioServer::~ScenarioServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
  }
}

}  // namespace bhe::test
