// Optional HTTP basic authentication for every endpoint, configured by --web.config.file (TOML):
//
//   unauthenticated_paths = ["/-/healthy"]      # e.g. for kubelet probes
//   [basic_auth_users]
//   alice = "$2b$10$..."                        # bcrypt hash (htpasswd -nB, mkpasswd -m bcrypt)
//
// Hashes are checked with the system's crypt_r (libxcrypt: bcrypt, sha512-crypt, yescrypt).
// Verified credentials are remembered (keyed by a SHA-256 of user and password), so a scraper
// does not pay for a bcrypt round on every request.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "exporter/web_server.h"

namespace bhe {

class BasicAuth {
 public:
  // Every problem of the file goes to `errors` (FILE:LINE:COL); nothing is returned then.
  static std::optional<BasicAuth> loadFile(const std::string& path,
                                           std::vector<ConfigError>& errors);

  // A 401 response, or nothing when the request may pass.
  std::optional<HttpResponse> check(const HttpRequest& request) const;

  BasicAuth(const BasicAuth& other);

 private:
  BasicAuth() = default;
  bool verify(const std::string& user, const std::string& password) const;

  std::map<std::string, std::string> users_;  // user -> crypt hash
  std::set<std::string> open_paths_;
  mutable std::mutex cache_mutex_;
  mutable std::set<std::string> verified_;  // digests of user:password pairs that matched
};

}  // namespace bhe
