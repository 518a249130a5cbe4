#include "config/config.h"

#include <string.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/bounded_file.h"
#include "common/host_port.h"
#include "common/request_path.h"
#include "config/duration.h"
#include "config/toml_limits.h"
#include "config/trusted_roots.h"
#include "pki/certificate_file.h"

namespace bhe {

std::string ConfigError::str() const {
  std::ostringstream out;
  out << file << ':';
  if (position.line > 0) {
    out << position.line << ':' << position.column << ':';
  }
  out << ' ' << message;
  return out.str();
}

std::string_view protocolName(Protocol p) {
  return p == Protocol::kHttps ? "https" : "http";
}

bool BackendPoolConfig::isDraining(std::string_view server) const {
  return std::find(draining.begin(), draining.end(), server) != draining.end();
}

const BackendPoolConfig* Config::findPool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

const BackendSettingsConfig* Config::findSettings(std::string_view name) const {
  for (const auto& s : settings) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

const ProbeConfig* Config::findProbe(std::string_view name) const {
  for (const auto& p : probes) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// The last label of a host name (without a final root dot).
std::string_view lastLabel(std::string_view text) {
  if (!text.empty() && text.back() == '.') {
    text.remove_suffix(1);
  }
  const auto dot = text.rfind('.');
  return dot == std::string_view::npos ? text : text.substr(dot + 1);
}

// The length of the UTF-8 sequence at text[i] with its code point, or 0 when the bytes there
// are not UTF-8 (overlong forms, UTF-16 surrogates and values beyond U+10FFFF included).
std::size_t decodeUtf8(std::string_view text, std::size_t i, char32_t& code) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  // Lead byte pattern, payload bits, sequence length, smallest code point of that length.
  struct Form {
    unsigned char mask;
    unsigned char pattern;
    std::size_t length;
    char32_t min;
  };
  static constexpr Form kForms[] = {
      {0xe0, 0xc0, 2, 0x80}, {0xf0, 0xe0, 3, 0x800}, {0xf8, 0xf0, 4, 0x10000}};
  const Form* form = nullptr;
  for (const Form& f : kForms) {
    if ((lead & f.mask) == f.pattern) {
      form = &f;
    }
  }
  if (form == nullptr) {
    return 0;
  }
  const std::size_t length = form->length;
  const char32_t min = form->min;
  code = lead & static_cast<unsigned char>(~form->mask);
  if (i + length > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xc0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
    return 0;
  }
  return length;
}

// C0 controls, DEL and C1 controls.
bool isControl(char32_t code) {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

}  // namespace

bool isValidHostName(std::string_view text) {
  if (text.empty() || text.size() > 253) {
    return false;
  }
  if (text.back() == '.') {
    text.remove_suffix(1);  // fully qualified with the root label
  }
  std::size_t label_len = 0;
  char prev = '.';
  for (char c : text) {
    if (c == '.') {
      if (label_len == 0 || prev == '-') {
        return false;
      }
      label_len = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      if (label_len == 0 && c == '-') {
        return false;
      }
      if (++label_len > 63) {
        return false;
      }
    } else {
      return false;
    }
    prev = c;
  }
  if (label_len == 0 || prev == '-') {
    return false;
  }
  const std::string_view last = lastLabel(text);
  return !std::all_of(last.begin(), last.end(), isDigit);
}

std::string labelTextProblem(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    const std::size_t length = decodeUtf8(text, i, code);
    if (length == 0) {
      return "invalid UTF-8 at byte " + std::to_string(i + 1);
    }
    if (isControl(code)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "%04X", static_cast<unsigned>(code));
      return std::string("control character U+") + hex;
    }
    i += length;
  }
  return "";
}

namespace {

SourcePosition positionOf(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// `text` in double quotes for a message, with control characters written as TOML escapes
// (\u0000) and bytes that are not UTF-8 as \xFF, so a rejected value cannot garble the output.
std::string inQuotes(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    const std::size_t length = decodeUtf8(text, i, code);
    char hex[8];
    if (length == 0) {
      std::snprintf(hex, sizeof(hex), "\\x%02X", static_cast<unsigned char>(text[i]));
      out += hex;
      ++i;
      continue;
    }
    if (isControl(code)) {
      std::snprintf(hex, sizeof(hex), "\\u%04X", static_cast<unsigned>(code));
      out += hex;
    } else {
      out += text.substr(i, length);
    }
    i += length;
  }
  return out + "\"";
}

// Why `text` (not an IP address, not a host name) is neither, when a common slip explains it.
std::string hostHint(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    return " (write IPv6 addresses without brackets)";
  }
  const std::string_view last = lastLabel(text);
  if (!last.empty() && std::all_of(last.begin(), last.end(), isDigit)) {
    const bool only_digits_and_dots =
        std::all_of(text.begin(), text.end(), [](char c) { return isDigit(c) || c == '.'; });
    return only_digits_and_dots ? " (an IPv4 address is four decimal numbers 0-255, and a host "
                                  "name's last label is not all digits)"
                                : " (a host name's last label is not all digits)";
  }
  if (std::count(text.begin(), text.end(), ':') == 1) {
    return " (no port here: the port belongs to the backend settings)";
  }
  return "";
}

// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*.
bool isLabelName(std::string_view name) {
  if (name.empty() || isDigit(name.front())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// Names a pool label may not take. The per-server and per-address series carry pool, settings,
// server, address, state, reason and category, and phase, result and position on some families:
// users join backend_health_pool_labels onto those series (`* on(pool) group_left(team)`), and
// a user label of the same name would collide in that join. job and instance are the target
// labels Prometheus attaches at scrape time: an exported label of that name is renamed to
// exported_job (or, with honor_labels, silently replaces the target's).
constexpr std::string_view kReservedLabelNames[] = {
    "pool",     "settings", "server", "address",  "state", "reason",
    "category", "phase",    "result", "position", "job",   "instance",
};

// Keys of [[backend_settings]] that configure the TLS phase, so mean nothing for http.
constexpr std::string_view kHttpsOnlyKeys[] = {
    "check_revocation", "client_certificate", "client_key", "validate_cert_chain_and_expiry",
    "validate_sni",     "sni_name",
};

// Walks one parsed document, filling a Config and collecting every problem on the way.
class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {
    base_dir_ = std::filesystem::path(file_).parent_path();
  }

  ConfigLoad read(const toml::table& root) {
    config_.file = file_;
    checkKeys(root, "", {"exporter", "backend_pool", "backend_settings", "probe"});
    if (const auto* node = root.get("exporter")) {
      if (const auto* t = expectTable(*node, "exporter")) {
        readExporter(*t);
      }
    }
    forEachTableInArray(root, "probe", [&](const toml::table& t) { readProbe(t); });
    forEachTableInArray(root, "backend_settings", [&](const toml::table& t) { readSettings(t); });
    forEachTableInArray(root, "backend_pool", [&](const toml::table& t) { readPool(t); });
    if (config_.pools.empty() && errors_.empty()) {
      error(root.source(), "no [[backend_pool]] defined: there is nothing to probe");
    }
    checkReferences();

    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.position.line, a.position.column) <
             std::tie(b.position.line, b.position.column);
    });
    ConfigLoad load;
    load.errors = std::move(errors_);
    if (load.errors.empty()) {
      load.config = std::move(config_);
    }
    return load;
  }

 private:
  void error(const toml::source_region& where, std::string message) {
    errors_.push_back({file_, positionOf(where), std::move(message)});
  }

  void checkKeys(const toml::table& table, std::string_view section,
                 std::initializer_list<std::string_view> allowed) {
    for (auto&& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string where =
            section.empty() ? "at the top level" : "in [" + std::string(section) + "]";
        std::string known;
        for (auto k : allowed) {
          known += known.empty() ? "" : ", ";
          known += k;
        }
        error(key.source(),
              "unknown key " + inQuotes(key.str()) + " " + where + " (known keys: " + known + ")");
      }
    }
  }

  void missingKey(const toml::table& t, std::string_view section, std::string_view key) {
    error(t.source(),
          std::string(section) + " is missing the required key \"" + std::string(key) + "\"");
  }

  // "<section>.<key> must be <expected>, not <what the node is>".
  void wrongType(const toml::node& node, std::string_view section, std::string_view key,
                 std::string_view expected) {
    error(node.source(), std::string(section) + "." + std::string(key) + " must be " +
                             std::string(expected) + ", not " + std::string(typeName(node)));
  }

  const toml::table* expectTable(const toml::node& node, std::string_view what) {
    if (const auto* t = node.as_table()) {
      return t;
    }
    error(node.source(),
          std::string(what) + " must be a table, not " + std::string(typeName(node)));
    return nullptr;
  }

  void forEachTableInArray(const toml::table& root, std::string_view key,
                           const std::function<void(const toml::table&)>& fn) {
    const auto* node = root.get(key);
    if (node == nullptr) {
      return;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
      error(node->source(), std::string(key) + " must be an array of tables ([[" +
                                std::string(key) + "]]), not " + std::string(typeName(*node)));
      return;
    }
    for (const auto& element : *array) {
      if (const auto* t = expectTable(element, "each [[" + std::string(key) + "]] entry")) {
        fn(*t);
      }
    }
  }

  std::optional<std::string> getString(const toml::table& t, std::string_view section,
                                       std::string_view key, bool required) {
    const auto* node = t.get(key);
    if (node == nullptr) {
      if (required) {
        missingKey(t, section, key);
      }
      return std::nullopt;
    }
    if (const auto* s = node->as_string()) {
      return s->get();
    }
    wrongType(*node, section, key, "a string");
    return std::nullopt;
  }

  // A host name or IP address (Host header / SNI override); reported but kept when malformed.
  std::optional<std::string> getHostName(const toml::table& t, const std::string& section,
                                         std::string_view key) {
    auto host = getString(t, section, key, false);
    if (host && !isValidHostName(*host) && !isIpLiteral(*host)) {
      error(t.get(key)->source(), section + "." + std::string(key) + " " + inQuotes(*host) +
                                      " is neither an IPv4/IPv6 address nor a valid host name" +
                                      hostHint(*host));
    }
    return host;
  }

  std::optional<bool> getBool(const toml::table& t, std::string_view section,
                              std::string_view key) {
    const auto* node = t.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    if (const auto* b = node->as_boolean()) {
      return b->get();
    }
    wrongType(*node, section, key, "a boolean (true or false)");
    return std::nullopt;
  }

  std::optional<std::int64_t> getInt(const toml::table& t, std::string_view section,
                                     std::string_view key, std::int64_t min, std::int64_t max) {
    const auto* node = t.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    const auto* i = node->as_integer();
    if (i == nullptr) {
      wrongType(*node, section, key, "an integer");
      return std::nullopt;
    }
    if (i->get() < min || i->get() > max) {
      error(node->source(), std::string(section) + "." + std::string(key) + " = " +
                                std::to_string(i->get()) + " is out of range (" +
                                std::to_string(min) + " to " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return i->get();
  }

  // An array of strings; each element is passed to `each` with its source for validation.
  std::optional<std::vector<std::string>> getStringArray(
      const toml::table& t, std::string_view section, std::string_view key, bool required,
      const std::function<bool(const std::string&, const toml::source_region&)>& each) {
    const auto* node = t.get(key);
    if (node == nullptr) {
      if (required) {
        missingKey(t, section, key);
      }
      return std::nullopt;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
      wrongType(*node, section, key, "an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const auto& element : *array) {
      const auto* s = element.as_string();
      if (s == nullptr) {
        error(element.source(), std::string(section) + "." + std::string(key) +
                                    " entries must be strings, not " +
                                    std::string(typeName(element)));
        ok = false;
        continue;
      }
      if (each && !each(s->get(), element.source())) {
        ok = false;
        continue;
      }
      values.push_back(s->get());
    }
    if (!ok) {
      return std::nullopt;
    }
    return values;
  }

  std::optional<std::chrono::milliseconds> getDuration(const toml::table& t,
                                                       std::string_view section,
                                                       std::string_view key) {
    const auto* node = t.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    const auto* s = node->as_string();
    if (s == nullptr) {
      wrongType(*node, section, key, "a duration string such as \"5s\"");
      return std::nullopt;
    }
    auto parsed = parseDuration(s->get());
    if (!parsed.value) {
      error(node->source(), std::string(section) + "." + std::string(key) + ": " + parsed.error);
      return std::nullopt;
    }
    if (parsed.value->count() == 0) {
      error(node->source(), std::string(section) + "." + std::string(key) + " must be positive");
      return std::nullopt;
    }
    return parsed.value;
  }

  // A name that identifies the entry in messages: `[[probe]] "api-health"`.
  static std::string sectionName(std::string_view kind, const std::optional<std::string>& name) {
    return "[[" + std::string(kind) + "]]" + (name ? " \"" + *name + "\"" : "");
  }

  void readExporter(const toml::table& t) {
    checkKeys(t, "exporter",
              {"dns_servers", "max_response_bytes", "max_concurrent_probes", "well_known_ca_bundle",
               "max_addresses_per_server"});
    auto& e = config_.exporter;
    std::set<std::pair<std::string, int>> seen_dns_servers;
    if (auto servers = getStringArray(t, "exporter", "dns_servers", false,
                                      [&](const std::string& v, const toml::source_region& at) {
                                        return checkDnsServer(v, at, seen_dns_servers);
                                      })) {
      e.dns_servers = *servers;
    }
    if (auto v = getInt(t, "exporter", "max_response_bytes", 0, 64LL << 20)) {
      e.max_response_bytes = static_cast<std::size_t>(*v);
    }
    if (auto v = getInt(t, "exporter", "max_concurrent_probes", 1, 100000)) {
      e.max_concurrent_probes = static_cast<int>(*v);
    }
    if (auto v = getString(t, "exporter", "well_known_ca_bundle", false)) {
      e.well_known_ca_bundle = resolvePath(*v);
      well_known_bundle_source_ = t.get("well_known_ca_bundle")->source();
    }
    if (auto v = getInt(t, "exporter", "max_addresses_per_server", 1, 1024)) {
      e.max_addresses_per_server = static_cast<int>(*v);
    }
  }

  bool checkDnsServer(const std::string& v, const toml::source_region& at,
                      std::set<std::pair<std::string, int>>& seen) {
    auto parsed = parseHostPort(v);
    if (!parsed.value) {
      const bool bad_port_number = parsed.error.starts_with("port ");
      error(at, "dns server " + inQuotes(v) + ": " +
                    (bad_port_number ? std::string("port must be 1-65535") : parsed.error));
      return false;
    }
    if (!isIpLiteral(parsed.value->host)) {
      error(at, "dns server " + inQuotes(v) + " must be an IP address, optionally with :PORT");
      return false;
    }
    // "127.0.0.1" and "127.0.0.1:53" are the same server.
    auto address = ipAddressBytes(parsed.value->host);
    if (!seen.emplace(std::string(address->begin(), address->end()),
                      parsed.value->port.value_or(53))
             .second) {
      error(at, "dns server " + inQuotes(v) + " is listed twice");
      return false;
    }
    return true;
  }

  std::string resolvePath(const std::string& p) const {
    std::filesystem::path path(p);
    if (path.is_relative() && !base_dir_.empty()) {
      return (base_dir_ / path).string();
    }
    return path.string();
  }

  void checkUniqueName(std::string_view kind, const std::string& name,
                       const toml::source_region& at) {
    auto [it, inserted] = seen_names_[std::string(kind)].emplace(name, at.begin.line);
    if (!inserted) {
      error(at, "duplicate " + std::string(kind) + " name \"" + name +
                    "\" (first defined on line " + std::to_string(it->second) + ")");
    }
  }

  std::optional<std::string> readName(const toml::table& t, std::string_view kind) {
    auto name = getString(t, "[[" + std::string(kind) + "]]", "name", true);
    if (name) {
      const auto& at = t.get("name")->source();
      if (name->empty()) {
        error(at, "[[" + std::string(kind) + "]] name must not be empty");
        return std::nullopt;
      }
      if (std::string problem = labelTextProblem(*name); !problem.empty()) {
        error(at, "[[" + std::string(kind) + "]] name " + inQuotes(*name) + " contains " + problem +
                      ": names become metric label values");
        return std::nullopt;
      }
      checkUniqueName(kind, *name, at);
    }
    return name;
  }

  std::optional<StatusRange> parseStatusRange(const toml::node& element, std::string_view section) {
    auto fail = [&](const std::string& why) {
      error(element.source(), std::string(section) + ".match.status_codes: " + why);
      return std::nullopt;
    };
    StatusRange range;
    if (const auto* i = element.as_integer()) {
      range.first = range.last = static_cast<int>(i->get());
      if (i->get() < 100 || i->get() > 599) {
        return fail("status code " + std::to_string(i->get()) + " is outside 100-599");
      }
      return range;
    }
    const auto* s = element.as_string();
    if (s == nullptr) {
      return fail("entries must be strings such as \"200-399\" or \"204\", not " +
                  std::string(typeName(element)));
    }
    const std::string& text = s->get();
    if (text.empty()) {
      return fail("empty status code range");
    }
    auto parseCode = [](std::string_view part) -> std::optional<int> {
      if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), isDigit)) {
        return std::nullopt;
      }
      return std::stoi(std::string(part));
    };
    auto dash = text.find('-');
    auto first = parseCode(std::string_view(text).substr(0, dash));
    auto last =
        dash == std::string::npos ? first : parseCode(std::string_view(text).substr(dash + 1));
    if (!first || !last) {
      return fail(inQuotes(text) + " is not a status code or a range like \"200-399\"");
    }
    for (int code : {*first, *last}) {
      if (code < 100 || code > 599) {
        return fail("status code " + std::to_string(code) + " in \"" + text +
                    "\" is outside 100-599");
      }
    }
    if (*first > *last) {
      return fail("range \"" + text + "\" is inverted (the first code must not exceed the last)");
    }
    range.first = *first;
    range.last = *last;
    return range;
  }

  void readProbe(const toml::table& t) {
    ProbeConfig p;
    auto name = readName(t, "probe");
    std::string section = sectionName("probe", name);
    checkKeys(
        t, "probe",
        {"name", "host", "pick_host_name_from_backend_settings", "path", "interval",
         "unhealthy_interval", "timeout", "unhealthy_threshold", "healthy_threshold", "match"});
    p.name = name.value_or("");
    p.host = getHostName(t, section, "host");
    p.pick_host_name_from_backend_settings =
        getBool(t, section, "pick_host_name_from_backend_settings").value_or(false);
    if (p.host && p.pick_host_name_from_backend_settings) {
      // Application Gateway refuses this pair too: the probe host would silently win.
      error(t.get("pick_host_name_from_backend_settings")->source(),
            section + ": set either host or pick_host_name_from_backend_settings, not both");
    }
    if (auto path = getString(t, section, "path", false)) {
      if (path->empty() || path->front() != '/') {
        error(t.get("path")->source(),
              section + ".path " + inQuotes(*path) + " must start with '/' (e.g. \"/healthz\")");
      } else if (hasSpaceOrControl(*path)) {
        error(t.get("path")->source(),
              section +
                  ".path must not contain spaces or control characters (percent-encode "
                  "them)");
      }
      p.path = *path;
    }
    if (auto d = getDuration(t, section, "interval")) {
      p.interval = *d;
    }
    p.unhealthy_interval = getDuration(t, section, "unhealthy_interval").value_or(p.interval);
    if (auto d = getDuration(t, section, "timeout")) {
      p.timeout = *d;
    }
    if (auto v = getInt(t, section, "unhealthy_threshold", 1, 1000)) {
      p.unhealthy_threshold = static_cast<int>(*v);
    }
    if (auto v = getInt(t, section, "healthy_threshold", 1, 1000)) {
      p.healthy_threshold = static_cast<int>(*v);
    }
    if (const auto* node = t.get("match")) {
      if (const auto* m = expectTable(*node, section + ".match")) {
        readMatch(*m, section, p.match);
      }
    }
    config_.probes.push_back(std::move(p));
  }

  void readMatch(const toml::table& m, const std::string& section, ProbeMatch& match) {
    checkKeys(m, "probe.match", {"status_codes", "body"});
    if (const auto* node = m.get("status_codes")) {
      const auto* array = node->as_array();
      if (array == nullptr) {
        error(node->source(), section +
                                  ".match.status_codes must be an array such as "
                                  "[\"200-399\"], not " +
                                  std::string(typeName(*node)));
      } else if (array->empty()) {
        error(node->source(), section + ".match.status_codes must not be empty");
      } else {
        match.status_codes.clear();
        for (const auto& element : *array) {
          if (auto range = parseStatusRange(element, section)) {
            match.status_codes.push_back(*range);
          }
        }
      }
    }
    if (auto body = getString(m, section + ".match", "body", false)) {
      if (body->empty()) {
        error(m.get("body")->source(), section +
                                           ".match.body must not be empty (omit it to "
                                           "accept any body)");
      }
      match.body = body;
    }
  }

  void readSettings(const toml::table& t) {
    BackendSettingsConfig s;
    auto name = readName(t, "backend_settings");
    std::string section = sectionName("backend_settings", name);
    checkKeys(t, "backend_settings",
              {"name", "protocol", "port", "host_name", "pick_host_name_from_backend_address",
               "probe", "trusted_root_certificates", "address_families", "check_revocation",
               "validate_cert_chain_and_expiry", "validate_sni", "sni_name", "client_certificate",
               "client_key"});
    s.name = name.value_or("");
    if (auto protocol = getString(t, section, "protocol", false)) {
      if (*protocol == "https") {
        s.protocol = Protocol::kHttps;
      } else if (*protocol != "http") {
        error(t.get("protocol")->source(),
              section + ".protocol must be \"http\" or \"https\", not " + inQuotes(*protocol));
      }
    }
    s.port = s.protocol == Protocol::kHttps ? 443 : 80;
    if (auto port = getInt(t, section, "port", 1, 65535)) {
      s.port = static_cast<int>(*port);
    }
    s.host_name = getHostName(t, section, "host_name");
    s.pick_host_name_from_backend_address =
        getBool(t, section, "pick_host_name_from_backend_address").value_or(false);
    if (auto probe = getString(t, section, "probe", false)) {
      s.probe = probe;
      const auto& at = t.get("probe")->source();
      references_.push_back({"probe", *probe, at, section + ".probe"});
      host_pick_checks_.push_back(
          {*probe, s.host_name.has_value() || s.pick_host_name_from_backend_address, at, section});
    }
    readAddressFamilies(t, section, s);
    readTls(t, section, s);
    if (s.protocol == Protocol::kHttps && !s.trusted_root_certificates) {
      needs_well_known_bundle_ = true;
    }
    config_.settings.push_back(std::move(s));
  }

  void readAddressFamilies(const toml::table& t, const std::string& section,
                           BackendSettingsConfig& s) {
    AddressFamilies chosen{false, false};
    auto families = getStringArray(
        t, section, "address_families", false,
        [&](const std::string& family, const toml::source_region& at) {
          bool* flag = family == "ipv4" ? &chosen.ipv4 : family == "ipv6" ? &chosen.ipv6 : nullptr;
          if (flag == nullptr) {
            error(at, section + ".address_families: " + inQuotes(family) +
                          " is not an address family (use \"ipv4\" and/or \"ipv6\")");
            return false;
          }
          if (*flag) {
            error(at, section + ".address_families: " + inQuotes(family) + " is listed twice");
            return false;
          }
          *flag = true;
          return true;
        });
    if (!families) {
      return;
    }
    if (families->empty()) {
      error(t.get("address_families")->source(),
            section +
                ".address_families must not be empty (list \"ipv4\", \"ipv6\" or both; omit it "
                "for both)");
      return;
    }
    s.address_families = chosen;
  }

  void readTls(const toml::table& t, const std::string& section, BackendSettingsConfig& s) {
    if (s.protocol != Protocol::kHttps) {
      for (std::string_view key : kHttpsOnlyKeys) {
        if (const auto* node = t.get(key)) {
          error(node->source(),
                section + "." + std::string(key) + " applies only to protocol \"https\"");
        }
      }
    }
    s.check_revocation = getBool(t, section, "check_revocation").value_or(false);
    s.validate_cert_chain_and_expiry =
        getBool(t, section, "validate_cert_chain_and_expiry").value_or(true);
    s.validate_sni = getBool(t, section, "validate_sni").value_or(true);
    if (auto sni = getString(t, section, "sni_name", false)) {
      const auto& at = t.get("sni_name")->source();
      if (isIpLiteral(*sni)) {
        error(at, section + ".sni_name " + inQuotes(*sni) +
                      " must be a host name: SNI carries no IP addresses (omit sni_name to "
                      "match the certificate against the address)");
      } else if (!isValidHostName(*sni)) {
        error(at, section + ".sni_name " + inQuotes(*sni) + " is not a valid host name" +
                      hostHint(*sni));
      }
      s.sni_name = sni;
    }
    readTrustedRoots(t, section, s);
    readClientIdentity(t, section, s);
    if (!s.validate_cert_chain_and_expiry && s.protocol == Protocol::kHttps) {
      const auto& at = t.get("validate_cert_chain_and_expiry")->source();
      if (t.get("trusted_root_certificates") != nullptr) {
        error(at, section +
                      ": trusted_root_certificates have no effect with "
                      "validate_cert_chain_and_expiry = false (remove one of them)");
      }
      if (s.check_revocation) {
        error(at, section +
                      ": check_revocation = true needs validate_cert_chain_and_expiry = true "
                      "(revocation is checked on the verified chain)");
      }
    }
  }

  void readTrustedRoots(const toml::table& t, const std::string& section,
                        BackendSettingsConfig& s) {
    const auto* node = t.get("trusted_root_certificates");
    if (node == nullptr) {
      return;
    }
    if (s.protocol != Protocol::kHttps) {
      error(node->source(),
            section + ".trusted_root_certificates applies only to protocol \"https\"");
    }
    std::vector<TrustedRootCertificate> roots;
    std::set<std::filesystem::path> seen;
    getStringArray(
        t, section, "trusted_root_certificates", false,
        [&](const std::string& path, const toml::source_region& at) {
          TrustedRootCertificate root{resolvePath(path), {}};
          if (!seen.insert(std::filesystem::path(root.path).lexically_normal()).second) {
            error(at,
                  section + ".trusted_root_certificates: " + inQuotes(path) + " is listed twice");
            return false;
          }
          std::string problem = loadTrustedRoot(root);
          if (!problem.empty()) {
            error(at, section + ".trusted_root_certificates: " + inQuotes(path) + ": " + problem);
            return false;
          }
          roots.push_back(std::move(root));
          return true;
        });
    s.trusted_root_certificates = std::move(roots);
  }

  void readClientIdentity(const toml::table& t, const std::string& section,
                          BackendSettingsConfig& s) {
    const bool has_certificate = t.contains("client_certificate");
    const bool has_key = t.contains("client_key");
    if (has_certificate != has_key) {
      const char* present = has_certificate ? "client_certificate" : "client_key";
      const char* absent = has_certificate ? "client_key" : "client_certificate";
      error(t.get(present)->source(),
            section + "." + present + " is set without " + absent + " (set both or neither)");
    }
    auto certificate = getString(t, section, "client_certificate", false);
    auto key = getString(t, section, "client_key", false);
    if (!certificate || !key) {
      return;
    }
    const auto& certificate_at = t.get("client_certificate")->source();
    const auto& key_at = t.get("client_key")->source();
    s.client_certificate = resolvePath(*certificate);
    s.client_key = resolvePath(*key);
    std::string certificate_bytes;
    std::string key_bytes;
    std::string certificate_unreadable = readFileBytes(*s.client_certificate, certificate_bytes);
    std::string key_unreadable = readFileBytes(*s.client_key, key_bytes);
    ClientIdentityParse parsed = parseClientIdentity(certificate_bytes, key_bytes);
    explicit_bzero(key_bytes.data(), key_bytes.size());
    const std::string& certificate_problem =
        certificate_unreadable.empty() ? parsed.certificate_error : certificate_unreadable;
    const std::string& key_problem = key_unreadable.empty() ? parsed.key_error : key_unreadable;
    if (!certificate_problem.empty()) {
      error(certificate_at,
            section + ".client_certificate " + inQuotes(*certificate) + ": " + certificate_problem);
    }
    if (!key_problem.empty()) {
      error(key_at, section + ".client_key " + inQuotes(*key) + ": " + key_problem);
    }
    s.client_identity = std::move(parsed.identity);
  }

  void readLabels(const toml::table& t, const std::string& section, BackendPoolConfig& pool) {
    const auto* node = t.get("labels");
    if (node == nullptr) {
      return;
    }
    const auto* labels = node->as_table();
    if (labels == nullptr) {
      error(node->source(), section + ".labels must be a table such as { team = \"payments\" }, " +
                                "not " + std::string(typeName(*node)));
      return;
    }
    // toml++ iterates keys in sorted order: the model's order, whatever the file's.
    for (auto&& [key, value] : *labels) {
      const std::string name(key.str());
      const std::string where = section + ".labels: label name " + inQuotes(name);
      if (!isLabelName(name)) {
        error(key.source(), where + " is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        continue;
      }
      if (name.starts_with("__")) {
        error(key.source(), where + " starts with \"__\", which Prometheus reserves");
        continue;
      }
      if (std::find(std::begin(kReservedLabelNames), std::end(kReservedLabelNames), name) !=
          std::end(kReservedLabelNames)) {
        std::string reserved;
        for (std::string_view r : kReservedLabelNames) {
          reserved += (reserved.empty() ? "" : ", ") + std::string(r);
        }
        error(key.source(),
              where + " is taken by the exporter's own series (reserved: " + reserved + ")");
        continue;
      }
      const auto* text = value.as_string();
      if (text == nullptr) {
        wrongType(value, section, "labels." + name, "a string");
        continue;
      }
      if (text->get().empty()) {
        error(value.source(), section + ".labels." + name +
                                  " must not be empty (an empty value is no label in "
                                  "Prometheus; remove it)");
        continue;
      }
      if (std::string problem = labelTextProblem(text->get()); !problem.empty()) {
        error(value.source(),
              section + ".labels." + name + " " + inQuotes(text->get()) + " contains " + problem);
        continue;
      }
      pool.labels.push_back({name, text->get()});
    }
  }

  void readPool(const toml::table& t) {
    BackendPoolConfig pool;
    auto name = readName(t, "backend_pool");
    std::string section = sectionName("backend_pool", name);
    checkKeys(t, "backend_pool", {"name", "servers", "backend_settings", "labels", "draining"});
    pool.name = name.value_or("");
    std::set<std::string> seen_servers;
    auto servers = getStringArray(
        t, section, "servers", true, [&](const std::string& server, const toml::source_region& at) {
          if (!isIpLiteral(server) && !isValidHostName(server)) {
            error(at, section + ": server " + inQuotes(server) +
                          " is neither an IPv4/IPv6 address nor a valid host name" +
                          hostHint(server));
            return false;
          }
          if (!seen_servers.insert(server).second) {
            error(at, section + ": server \"" + server + "\" is listed twice");
            return false;
          }
          return true;
        });
    if (servers) {
      if (servers->empty()) {
        error(t.get("servers")->source(), section + " has no servers: add at least one address");
      }
      pool.servers = *servers;
    }
    std::set<std::string> seen_settings;
    auto settings = getStringArray(
        t, section, "backend_settings", true,
        [&](const std::string& ref, const toml::source_region& at) {
          if (!seen_settings.insert(ref).second) {
            error(at, section + ": backend_settings " + inQuotes(ref) + " is listed twice");
            return false;
          }
          references_.push_back({"backend_settings", ref, at, section + ".backend_settings"});
          return true;
        });
    if (settings) {
      if (settings->empty()) {
        error(t.get("backend_settings")->source(),
              section + " has no backend_settings: name the settings to probe it with");
      }
      pool.backend_settings = *settings;
    }
    readLabels(t, section, pool);
    std::set<std::string> seen_draining;
    auto draining = getStringArray(
        t, section, "draining", false,
        [&](const std::string& server, const toml::source_region& at) {
          // Compared as written: a draining entry names a configured server, not an address.
          if (servers && std::find(servers->begin(), servers->end(), server) == servers->end()) {
            error(at, section + ".draining: " + inQuotes(server) +
                          " is not one of the pool's servers (write it exactly as in servers)");
            return false;
          }
          if (!seen_draining.insert(server).second) {
            error(at, section + ".draining: " + inQuotes(server) + " is listed twice");
            return false;
          }
          return true;
        });
    if (draining) {
      pool.draining = *draining;
    }
    config_.pools.push_back(std::move(pool));
  }

  void checkReferences() {
    for (const auto& ref : references_) {
      const auto& names = seen_names_[ref.kind];
      if (!names.contains(ref.name)) {
        std::string known;
        for (const auto& [n, line] : names) {
          known += known.empty() ? "" : ", ";
          known += "\"" + n + "\"";
        }
        error(ref.at, ref.where + " refers to unknown " + ref.kind + " " + inQuotes(ref.name) +
                          (known.empty() ? " (none is defined)" : " (defined: " + known + ")"));
      }
    }
    for (const auto& check : host_pick_checks_) {
      const ProbeConfig* probe = config_.findProbe(check.probe);
      if (probe != nullptr && probe->pick_host_name_from_backend_settings && !probe->host &&
          !check.settings_have_host) {
        error(check.at, check.section + ".probe \"" + probe->name +
                            "\" has pick_host_name_from_backend_settings = true, but these "
                            "settings have neither host_name nor "
                            "pick_host_name_from_backend_address = true (it would probe with "
                            "Host 127.0.0.1)");
      }
    }
    if (needs_well_known_bundle_ && errors_.empty()) {
      std::string problem = checkWellKnownBundle(config_.exporter.well_known_ca_bundle);
      if (!problem.empty()) {
        error(well_known_bundle_source_, "exporter.well_known_ca_bundle \"" +
                                             config_.exporter.well_known_ca_bundle +
                                             "\": " + problem);
      }
    }
  }

  struct Reference {
    std::string kind;  // "probe" | "backend_settings"
    std::string name;
    toml::source_region at;
    std::string where;
  };

  // Settings naming a probe that may pick its host name from them: judged once all are read.
  struct HostPickCheck {
    std::string probe;
    bool settings_have_host = false;  // host_name or pick_host_name_from_backend_address
    toml::source_region at;           // of the settings' `probe` value
    std::string section;
  };

  std::string file_;
  std::filesystem::path base_dir_;
  Config config_;
  std::vector<ConfigError> errors_;
  std::map<std::string, std::map<std::string, std::uint32_t>> seen_names_;
  std::vector<Reference> references_;
  std::vector<HostPickCheck> host_pick_checks_;
  bool needs_well_known_bundle_ = false;
  toml::source_region well_known_bundle_source_{};
};

}  // namespace

namespace {

ConfigLoad readDocument(TomlDocument document, const std::string& file) {
  if (!document.table) {
    ConfigLoad load;
    load.errors.push_back(std::move(*document.error));
    return load;
  }
  return ConfigReader(file).read(*document.table);
}

}  // namespace

ConfigLoad parseConfig(std::string_view toml_text, const std::string& file) {
  return readDocument(parseTomlText(toml_text, file), file);
}

ConfigLoad loadConfigFile(const std::string& path) {
  return readDocument(readTomlFile(path, "config file"), path);
}

}  // namespace bhe
