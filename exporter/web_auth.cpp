#include "exporter/web_auth.h"

#include "config/toml_limits.h"

#include <crypt.h>
// wolfssl/options.h must precede every other wolfSSL header.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <toml++/toml.h>
#include <cstring>
#include <memory>

namespace bhe {
namespace {

std::string base64Decode(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') {
      break;
    }
    auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) {
      return "";
    }
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string digest(const std::string& user, const std::string& password) {
  std::string input = user + '\0' + password;
  unsigned char hash[WC_SHA256_DIGEST_SIZE];
  wc_Sha256Hash(reinterpret_cast<const unsigned char*>(input.data()),
                static_cast<unsigned>(input.size()), hash);
  return std::string(reinterpret_cast<char*>(hash), sizeof hash);
}

HttpResponse unauthorized() {
  return {401,
          "text/plain; charset=utf-8",
          "401 Unauthorized\n",
          {{"WWW-Authenticate", "Basic realm=\"backend-health-exporter\", charset=\"UTF-8\""}}};
}

}  // namespace

BasicAuth::BasicAuth(const BasicAuth& other)
    : users_(other.users_), open_paths_(other.open_paths_) {}

std::optional<BasicAuth> BasicAuth::loadFile(const std::string& path,
                                             std::vector<ConfigError>& errors) {
  std::size_t errors_before = errors.size();
  auto error = [&](const toml::source_region& at, std::string message) {
    errors.push_back({path,
                      {static_cast<int>(at.begin.line), static_cast<int>(at.begin.column)},
                      std::move(message)});
  };
  TomlDocument document = readTomlFile(path, "web config file");
  if (!document.table) {
    errors.push_back(std::move(*document.error));
    return std::nullopt;
  }
  const toml::table& root = *document.table;
  BasicAuth auth;
  for (auto&& [key, node] : root) {
    if (key.str() == "basic_auth_users") {
      const auto* users = node.as_table();
      if (users == nullptr) {
        error(node.source(), "basic_auth_users must be a table of user = \"hash\"");
        continue;
      }
      for (auto&& [user, hash] : *users) {
        const auto* text = hash.as_string();
        if (text == nullptr || text->get().empty() || text->get().front() != '$') {
          error(hash.source(), "basic_auth_users." + std::string(user.str()) +
                                   " must be a crypt hash string such as \"$2b$10$...\"");
          continue;
        }
        auth.users_[std::string(user.str())] = text->get();
      }
    } else if (key.str() == "unauthenticated_paths") {
      const auto* paths = node.as_array();
      if (paths == nullptr) {
        error(node.source(), "unauthenticated_paths must be an array of paths");
        continue;
      }
      for (const auto& p : *paths) {
        const auto* text = p.as_string();
        if (text == nullptr || text->get().empty() || text->get().front() != '/') {
          error(p.source(), "unauthenticated_paths entries must be paths starting with '/'");
          continue;
        }
        auth.open_paths_.insert(text->get());
      }
    } else {
      error(key.source(), "unknown key \"" + std::string(key.str()) +
                              "\" (known keys: basic_auth_users, unauthenticated_paths)");
    }
  }
  if (auth.users_.empty() && errors.size() == errors_before) {
    error(root.source(), "no basic_auth_users defined: every request would be refused");
  }
  if (errors.size() != errors_before) {
    return std::nullopt;
  }
  return auth;
}

bool BasicAuth::verify(const std::string& user, const std::string& password) const {
  auto it = users_.find(user);
  if (it == users_.end()) {
    return false;
  }
  std::string key = digest(user, password);
  {
    std::lock_guard lock(cache_mutex_);
    if (verified_.contains(key)) {
      return true;
    }
  }
  // crypt_data is ~32 KiB: kept off the handler thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(password.c_str(), it->second.c_str(), data.get());
  bool ok =
      computed != nullptr && computed[0] != '*' && std::strcmp(computed, it->second.c_str()) == 0;
  if (ok) {
    std::lock_guard lock(cache_mutex_);
    verified_.insert(key);
  }
  return ok;
}

std::optional<HttpResponse> BasicAuth::check(const HttpRequest& request) const {
  if (open_paths_.contains(request.path)) {
    return std::nullopt;
  }
  auto header = request.headers.find("authorization");
  if (header == request.headers.end() || header->second.rfind("Basic ", 0) != 0) {
    return unauthorized();
  }
  std::string decoded = base64Decode(header->second.substr(6));
  auto colon = decoded.find(':');
  if (colon == std::string::npos || !verify(decoded.substr(0, colon), decoded.substr(colon + 1))) {
    return unauthorized();
  }
  return std::nullopt;
}

}  // namespace bhe
