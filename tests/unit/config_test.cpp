#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bhe {
namespace {

using ::testing::ElementsAre;

const char* kValid = R"(
[exporter]
dns_servers = ["127.0.0.1:5353"]

[[backend_pool]]
name = "api"
servers = ["10.0.0.5", "api-1.internal.example"]
backend_settings = ["api-http"]

[[backend_settings]]
name = "api-http"
port = 8080
probe = "health"

[[probe]]
name = "health"
path = "/healthz"
interval = "5s"
timeout = "2s"
[probe.match]
status_codes = ["200-299", "404", 418]
body = "OK"
)";

std::vector<std::string> errorsOf(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parseConfig(text, "test.toml").errors) {
    out.push_back(e.str());
  }
  return out;
}

TEST(Config, ValidConfigLoadsWithDefaults) {
  ConfigLoad load = parseConfig(kValid, "test.toml");
  ASSERT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors[0].str());
  const Config& c = *load.config;
  EXPECT_EQ(c.exporter.dns_servers, std::vector<std::string>{"127.0.0.1:5353"});
  EXPECT_EQ(c.exporter.max_response_bytes, 65536u);
  EXPECT_EQ(c.exporter.max_concurrent_probes, 1000);
  EXPECT_EQ(c.exporter.well_known_ca_bundle, "/etc/ssl/certs/ca-certificates.crt");
  ASSERT_EQ(c.settings.size(), 1u);
  EXPECT_EQ(c.settings[0].protocol, Protocol::kHttp);
  EXPECT_EQ(c.settings[0].port, 8080);
  EXPECT_FALSE(c.settings[0].trusted_root_certificates);
  ASSERT_EQ(c.probes.size(), 1u);
  const ProbeConfig& p = c.probes[0];
  EXPECT_EQ(p.interval, std::chrono::seconds(5));
  EXPECT_EQ(p.timeout, std::chrono::seconds(2));
  EXPECT_EQ(p.unhealthy_threshold, 3);
  EXPECT_EQ(p.healthy_threshold, 1);
  EXPECT_THAT(p.match.status_codes,
              ElementsAre(StatusRange{200, 299}, StatusRange{404, 404}, StatusRange{418, 418}));
  EXPECT_EQ(p.match.body, "OK");
}

TEST(Config, DefaultPortFollowsProtocol) {
  ConfigLoad load = parseConfig(R"(
[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["s", "t"]
[[backend_settings]]
name = "s"
protocol = "https"
[[backend_settings]]
name = "t"
)",
                                "test.toml");
  ASSERT_TRUE(load.config);
  EXPECT_EQ(load.config->settings[0].port, 443);
  EXPECT_EQ(load.config->settings[1].port, 80);
}

TEST(Config, TomlSyntaxErrorHasItsPosition) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\nservers = []\n"),
              ElementsAre(::testing::StartsWith("test.toml:2:")));
}

TEST(Config, UnknownKey) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\nserver = \"typo\"\n"
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:5:1: unknown key \"server\" in [backend_pool] (known keys: "
                          "name, servers, backend_settings, labels, draining)"));
}

TEST(Config, WrongType) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\nport = \"80\"\n"),
              ElementsAre("test.toml:7:8: [[backend_settings]] \"s\".port must be an integer, "
                          "not a string"));
}

TEST(Config, BadDuration) {
  EXPECT_THAT(
      errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
               "backend_settings = [\"s\"]\n"
               "[[backend_settings]]\nname = \"s\"\nprobe = \"p\"\n"
               "[[probe]]\nname = \"p\"\ninterval = \"5 seconds\"\n"),
      ElementsAre("test.toml:10:12: [[probe]] \"p\".interval: bad duration \"5 seconds\": unknown "
                  "unit \" seconds\" (use ms, s, m or h)"));
}

TEST(Config, StatusRanges) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\nprobe = \"p\"\n"
                       "[[probe]]\nname = \"p\"\n[probe.match]\n"
                       "status_codes = [\"399-200\", \"600\", \"\", \"2xx\"]\n"),
              ElementsAre("test.toml:11:17: [[probe]] \"p\".match.status_codes: range \"399-200\" "
                          "is inverted (the first code must not exceed the last)",
                          "test.toml:11:28: [[probe]] \"p\".match.status_codes: status code 600 "
                          "in \"600\" is outside 100-599",
                          "test.toml:11:35: [[probe]] \"p\".match.status_codes: empty status "
                          "code range",
                          "test.toml:11:39: [[probe]] \"p\".match.status_codes: \"2xx\" is not a "
                          "status code or a range like \"200-399\""));
}

TEST(Config, DanglingReferences) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"nope\"]\n"
                       "[[backend_settings]]\nname = \"s\"\nprobe = \"missing\"\n"),
              ElementsAre("test.toml:4:21: [[backend_pool]] \"a\".backend_settings refers to "
                          "unknown backend_settings \"nope\" (defined: \"s\")",
                          "test.toml:7:9: [[backend_settings]] \"s\".probe refers to unknown probe "
                          "\"missing\" (none is defined)"));
}

TEST(Config, DuplicateNames) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\n"
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:8:8: duplicate backend_settings name \"s\" (first defined "
                          "on line 6)"));
}

TEST(Config, EmptyPoolAndDuplicateServer) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = []\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_pool]]\nname = \"b\"\nservers = [\"h.test\", \"h.test\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:3:11: [[backend_pool]] \"a\" has no servers: add at least "
                          "one address",
                          "test.toml:7:22: [[backend_pool]] \"b\": server \"h.test\" is listed "
                          "twice"));
}

TEST(Config, ProbePathMustStartWithSlash) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\nprobe = \"p\"\n"
                       "[[probe]]\nname = \"p\"\npath = \"healthz\"\n"),
              ElementsAre("test.toml:10:8: [[probe]] \"p\".path \"healthz\" must start with '/' "
                          "(e.g. \"/healthz\")"));
}

TEST(Config, MissingRequiredKeysPointAtTheTable) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\n"),
              ElementsAre("test.toml:1:1: [[backend_pool]] \"a\" is missing the required key "
                          "\"servers\"",
                          "test.toml:1:1: [[backend_pool]] \"a\" is missing the required key "
                          "\"backend_settings\""));
}

TEST(Config, InvalidServerAndDnsServer) {
  EXPECT_THAT(errorsOf("[exporter]\ndns_servers = [\"dns.example:53\", \"127.0.0.1:99999\"]\n"
                       "[[backend_pool]]\nname = \"a\"\nservers = [\"bad host!\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:2:16: dns server \"dns.example:53\" must be an IP address, "
                          "optionally with :PORT",
                          "test.toml:2:34: dns server \"127.0.0.1:99999\": port must be 1-65535",
                          "test.toml:5:12: [[backend_pool]] \"a\": server \"bad host!\" is "
                          "neither an IPv4/IPv6 address nor a valid host name"));
}

TEST(Config, ReportsEveryProblemAtOnceInFileOrder) {
  auto errors = errorsOf(
      "[exporter]\nmax_concurrent_probes = 0\n"
      "[[backend_pool]]\nname = \"a\"\nservers = []\nbackend_settings = [\"x\"]\n"
      "[[backend_settings]]\nname = \"s\"\nprotocol = \"ftp\"\n"
      "[[probe]]\nname = \"p\"\ntimeout = \"0s\"\nhealthy_threshold = -1\n");
  EXPECT_THAT(errors,
              ElementsAre(::testing::StartsWith("test.toml:2:25: exporter.max_concurrent_probes"),
                          ::testing::StartsWith("test.toml:5:11: [[backend_pool]] \"a\" has no"),
                          ::testing::StartsWith("test.toml:6:21: [[backend_pool]] \"a\".backend_"),
                          ::testing::StartsWith("test.toml:9:12: [[backend_settings]] \"s\".prot"),
                          ::testing::StartsWith("test.toml:12:11: [[probe]] \"p\".timeout must be"),
                          ::testing::StartsWith("test.toml:13:21: [[probe]] \"p\".healthy_thr")));
}

TEST(Config, TrustedRootsOnlyForHttpsAndMustBeReadable) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\"\nservers = [\"127.0.0.1\"]\n"
                       "backend_settings = [\"s\"]\n"
                       "[[backend_settings]]\nname = \"s\"\n"
                       "trusted_root_certificates = [\"/nonexistent/root.pem\"]\n"),
              ElementsAre("test.toml:7:29: [[backend_settings]] \"s\".trusted_root_certificates "
                          "applies only to protocol \"https\"",
                          ::testing::StartsWith("test.toml:7:30: [[backend_settings]] "
                                                "\"s\".trusted_root_certificates: "
                                                "\"/nonexistent/root.pem\": cannot read")));
}

TEST(Config, UnreadableFileIsReportedWithoutPosition) {
  ConfigLoad load = loadConfigFile("/nonexistent/config.toml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].str(),
            "/nonexistent/config.toml: cannot read the config file: No such file or directory");
}

// The pool and settings every test below extends; errors are expected from line 5 on.
constexpr const char* kPool = R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s"]
)";

std::vector<std::string> errorsWithPool(const std::string& rest) {
  return errorsOf(kPool + rest);
}

TEST(Config, SecondVersionKeysDefaults) {
  ConfigLoad load = parseConfig(kValid, "test.toml");
  ASSERT_TRUE(load.config);
  const Config& c = *load.config;
  EXPECT_EQ(c.exporter.max_addresses_per_server, 16);
  const BackendSettingsConfig& s = c.settings.at(0);
  EXPECT_EQ(s.address_families, (AddressFamilies{true, true}));
  EXPECT_FALSE(s.check_revocation);
  EXPECT_TRUE(s.validate_cert_chain_and_expiry);
  EXPECT_TRUE(s.validate_sni);
  EXPECT_FALSE(s.sni_name);
  EXPECT_FALSE(s.client_certificate);
  EXPECT_FALSE(s.client_key);
  EXPECT_EQ(s.client_identity, nullptr);
  EXPECT_EQ(c.probes.at(0).unhealthy_interval, std::chrono::seconds(5));  // = interval
  EXPECT_TRUE(c.pools.at(0).labels.empty());
  EXPECT_TRUE(c.pools.at(0).draining.empty());
  EXPECT_FALSE(c.pools.at(0).isDraining("10.0.0.5"));
}

TEST(Config, SecondVersionKeysParsed) {
  ConfigLoad load = parseConfig(R"(
[exporter]
max_addresses_per_server = 4
[[backend_pool]]
name = "api"
servers = ["10.0.0.5", "10.0.0.6", "api.internal.example"]
backend_settings = ["tls"]
labels = { team = "payments", env = "prod", tier_1 = "Zürich ☕" }
draining = ["10.0.0.6", "api.internal.example"]
[[backend_settings]]
name = "tls"
protocol = "https"
address_families = ["ipv6"]
check_revocation = true
validate_sni = false
sni_name = "api.example.com"
probe = "p"
[[probe]]
name = "p"
interval = "30s"
unhealthy_interval = "5s"
)",
                                "test.toml");
  ASSERT_TRUE(load.config) << load.errors.at(0).str();
  const Config& c = *load.config;
  EXPECT_EQ(c.exporter.max_addresses_per_server, 4);
  const BackendPoolConfig& pool = *c.findPool("api");
  EXPECT_THAT(pool.labels, ElementsAre(PoolLabel{"env", "prod"}, PoolLabel{"team", "payments"},
                                       PoolLabel{"tier_1", "Zürich ☕"}));
  EXPECT_THAT(pool.draining, ElementsAre("10.0.0.6", "api.internal.example"));
  EXPECT_TRUE(pool.isDraining("10.0.0.6"));
  EXPECT_FALSE(pool.isDraining("10.0.0.5"));
  const BackendSettingsConfig& s = *c.findSettings("tls");
  EXPECT_EQ(s.address_families, (AddressFamilies{false, true}));
  EXPECT_TRUE(s.check_revocation);
  EXPECT_TRUE(s.validate_cert_chain_and_expiry);
  EXPECT_FALSE(s.validate_sni);
  EXPECT_EQ(s.sni_name, "api.example.com");
  EXPECT_EQ(c.findProbe("p")->interval, std::chrono::seconds(30));
  EXPECT_EQ(c.findProbe("p")->unhealthy_interval, std::chrono::seconds(5));
  EXPECT_EQ(c.findPool("nope"), nullptr);
}

TEST(Config, TlsKeysApplyOnlyToHttps) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
check_revocation = false
client_certificate = "c.pem"
client_key = "c.key"
validate_cert_chain_and_expiry = true
validate_sni = true
sni_name = "api.example.com"
)"),
              ElementsAre("test.toml:7:20: [[backend_settings]] \"s\".check_revocation applies "
                          "only to protocol \"https\"",
                          "test.toml:8:22: [[backend_settings]] \"s\".client_certificate applies "
                          "only to protocol \"https\"",
                          ::testing::StartsWith("test.toml:8:22: [[backend_settings]] "
                                                "\"s\".client_certificate \"c.pem\": cannot read"),
                          "test.toml:9:14: [[backend_settings]] \"s\".client_key applies only to "
                          "protocol \"https\"",
                          ::testing::StartsWith("test.toml:9:14: [[backend_settings]] "
                                                "\"s\".client_key \"c.key\": cannot read"),
                          "test.toml:10:34: [[backend_settings]] "
                          "\"s\".validate_cert_chain_and_expiry applies only to protocol "
                          "\"https\"",
                          "test.toml:11:16: [[backend_settings]] \"s\".validate_sni applies only "
                          "to protocol \"https\"",
                          "test.toml:12:12: [[backend_settings]] \"s\".sni_name applies only to "
                          "protocol \"https\""));
}

TEST(Config, ClientCertificateAndKeyComeTogether) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
protocol = "https"
client_certificate = "c.pem"
[[backend_settings]]
name = "t"
protocol = "https"
client_key = "c.key"
[[backend_settings]]
name = "u"
protocol = "https"
client_certificate = 1
client_key = "c.key"
)"),
              ElementsAre("test.toml:8:22: [[backend_settings]] \"s\".client_certificate is set "
                          "without client_key (set both or neither)",
                          "test.toml:12:14: [[backend_settings]] \"t\".client_key is set without "
                          "client_certificate (set both or neither)",
                          "test.toml:16:22: [[backend_settings]] \"u\".client_certificate must be "
                          "a string, not an integer"));
}

TEST(Config, ChainValidationOffConflicts) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
protocol = "https"
validate_cert_chain_and_expiry = false
trusted_root_certificates = []
check_revocation = true
)"),
              ElementsAre("test.toml:8:34: [[backend_settings]] \"s\": trusted_root_certificates "
                          "have no effect with validate_cert_chain_and_expiry = false (remove one "
                          "of them)",
                          "test.toml:8:34: [[backend_settings]] \"s\": check_revocation = true "
                          "needs validate_cert_chain_and_expiry = true (revocation is checked on "
                          "the verified chain)"));
}

TEST(Config, AddressFamilies) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
address_families = []
[[backend_settings]]
name = "t"
address_families = ["ipv4", "IPv6", "ipv4", 6]
)"),
              ElementsAre("test.toml:7:20: [[backend_settings]] \"s\".address_families must not "
                          "be empty (list \"ipv4\", \"ipv6\" or both; omit it for both)",
                          "test.toml:10:29: [[backend_settings]] \"t\".address_families: \"IPv6\" "
                          "is not an address family (use \"ipv4\" and/or \"ipv6\")",
                          "test.toml:10:37: [[backend_settings]] \"t\".address_families: \"ipv4\" "
                          "is listed twice",
                          "test.toml:10:45: [[backend_settings]] \"t\".address_families entries "
                          "must be strings, not an integer"));
  ConfigLoad load = parseConfig(kPool + std::string(R"([[backend_settings]]
name = "s"
address_families = ["ipv6", "ipv4"]
)"),
                                "test.toml");
  ASSERT_TRUE(load.config);
  EXPECT_EQ(load.config->settings[0].address_families, (AddressFamilies{true, true}));
}

TEST(Config, SniNameIsAHostName) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
protocol = "https"
sni_name = "10.0.0.5"
[[backend_settings]]
name = "t"
protocol = "https"
sni_name = "api example"
)"),
              ElementsAre("test.toml:8:12: [[backend_settings]] \"s\".sni_name \"10.0.0.5\" must "
                          "be a host name: SNI carries no IP addresses (omit sni_name to match "
                          "the certificate against the address)",
                          "test.toml:12:12: [[backend_settings]] \"t\".sni_name \"api example\" is "
                          "not a valid host name"));
}

TEST(Config, UnhealthyInterval) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
probe = "p"
[[probe]]
name = "p"
unhealthy_interval = "0s"
[[probe]]
name = "q"
unhealthy_interval = "soon"
)"),
              ElementsAre("test.toml:10:22: [[probe]] \"p\".unhealthy_interval must be positive",
                          "test.toml:13:22: [[probe]] \"q\".unhealthy_interval: bad duration "
                          "\"soon\": expected a number followed by ms, s, m or h (e.g. \"5s\")"));
}

TEST(Config, MaxAddressesPerServer) {
  EXPECT_THAT(errorsOf(std::string("[exporter]\nmax_addresses_per_server = 0\n") + kPool +
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:2:28: exporter.max_addresses_per_server = 0 is out of range "
                          "(1 to 1024)"));
  EXPECT_THAT(errorsOf(std::string("[exporter]\nmax_addresses_per_server = 1025\n") + kPool +
                       "[[backend_settings]]\nname = \"s\"\n"),
              ElementsAre("test.toml:2:28: exporter.max_addresses_per_server = 1025 is out of "
                          "range (1 to 1024)"));
}

TEST(Config, PoolLabels) {
  const std::string kReserved =
      "(reserved: pool, settings, server, address, state, reason, category, phase, result, "
      "position, job, instance)";
  EXPECT_THAT(
      errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s"]
labels = { "1team" = "x", "team-name" = "x", __meta = "x", server = "x", job = "x", instance = "x", phase = "x", empty = "", count = 5, newline = "a\nb", c1 = "\u0085" }
[[backend_pool]]
name = "b"
servers = ["10.0.0.5"]
backend_settings = ["s"]
labels = "team=payments"
[[backend_settings]]
name = "s"
)"),
      ElementsAre(
          "test.toml:5:12: [[backend_pool]] \"a\".labels: label name \"1team\" is not a "
          "Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
          "test.toml:5:27: [[backend_pool]] \"a\".labels: label name \"team-name\" is not a "
          "Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
          "test.toml:5:46: [[backend_pool]] \"a\".labels: label name \"__meta\" starts with "
          "\"__\", which Prometheus reserves",
          "test.toml:5:60: [[backend_pool]] \"a\".labels: label name \"server\" is taken by the "
          "exporter's own series " +
              kReserved,
          "test.toml:5:74: [[backend_pool]] \"a\".labels: label name \"job\" is taken by the "
          "exporter's own series " +
              kReserved,
          "test.toml:5:85: [[backend_pool]] \"a\".labels: label name \"instance\" is taken by the "
          "exporter's own series " +
              kReserved,
          "test.toml:5:101: [[backend_pool]] \"a\".labels: label name \"phase\" is taken by the "
          "exporter's own series " +
              kReserved,
          "test.toml:5:122: [[backend_pool]] \"a\".labels.empty must not be empty (an empty value "
          "is no label in Prometheus; remove it)",
          "test.toml:5:134: [[backend_pool]] \"a\".labels.count must be a string, not an integer",
          "test.toml:5:147: [[backend_pool]] \"a\".labels.newline \"a\\u000Ab\" contains control "
          "character U+000A",
          "test.toml:5:160: [[backend_pool]] \"a\".labels.c1 \"\\u0085\" contains control "
          "character U+0085",
          "test.toml:10:10: [[backend_pool]] \"b\".labels must be a table such as { team = "
          "\"payments\" }, not a string"));
}

TEST(Config, Draining) {
  EXPECT_THAT(errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5", "api.example"]
backend_settings = ["s"]
draining = ["10.0.0.5", "10.0.0.9", "api.example.", "10.0.0.5", 7]
[[backend_settings]]
name = "s"
)"),
              ElementsAre("test.toml:5:25: [[backend_pool]] \"a\".draining: \"10.0.0.9\" is not "
                          "one of the pool's servers (write it exactly as in servers)",
                          "test.toml:5:37: [[backend_pool]] \"a\".draining: \"api.example.\" is "
                          "not one of the pool's servers (write it exactly as in servers)",
                          "test.toml:5:53: [[backend_pool]] \"a\".draining: \"10.0.0.5\" is listed "
                          "twice",
                          "test.toml:5:65: [[backend_pool]] \"a\".draining entries must be "
                          "strings, not an integer"));
}

TEST(Config, PoolListingSettingsTwice) {
  EXPECT_THAT(errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s", "t", "s"]
[[backend_settings]]
name = "s"
[[backend_settings]]
name = "t"
)"),
              ElementsAre("test.toml:4:31: [[backend_pool]] \"a\": backend_settings \"s\" is "
                          "listed twice"));
}

TEST(Config, PickHostNameFromBackendSettings) {
  EXPECT_THAT(errorsOf(R"([[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["no-host", "host-name", "from-address", "both"]
[[backend_settings]]
name = "no-host"
probe = "from-settings"
[[backend_settings]]
name = "host-name"
host_name = "api.example.com"
probe = "from-settings"
[[backend_settings]]
name = "from-address"
pick_host_name_from_backend_address = true
probe = "from-settings"
[[backend_settings]]
name = "both"
probe = "both"
[[probe]]
name = "from-settings"
pick_host_name_from_backend_settings = true
[[probe]]
name = "both"
host = "probe.example.com"
pick_host_name_from_backend_settings = true
)"),
              ElementsAre("test.toml:7:9: [[backend_settings]] \"no-host\".probe \"from-settings\" "
                          "has pick_host_name_from_backend_settings = true, but these settings "
                          "have neither host_name nor pick_host_name_from_backend_address = true "
                          "(it would probe with Host 127.0.0.1)",
                          "test.toml:25:40: [[probe]] \"both\": set either host or "
                          "pick_host_name_from_backend_settings, not both"));
}

TEST(Config, AddressShapedValues) {
  EXPECT_THAT(
      errorsOf(R"([exporter]
dns_servers = ["1.2.3.4:", "1.2.3.4:0", "256.1.1.1:53", "127.0.0.1", "127.0.0.1:53", "[::1]:53", "::1"]
[[backend_pool]]
name = "a"
servers = ["256.1.1.1", "1.2.3", "999.999.999.999", "api.123", "[::1]", "10.0.0.5:80", "1.2.3.4", "::1", "api.example.com"]
backend_settings = ["s"]
[[backend_settings]]
name = "s"
host_name = "256.1.1.1"
probe = "p"
[[probe]]
name = "p"
host = "1.2.3"
)"),
      ElementsAre(
          "test.toml:2:16: dns server \"1.2.3.4:\": empty port after ':'",
          "test.toml:2:28: dns server \"1.2.3.4:0\": port must be 1-65535",
          "test.toml:2:41: dns server \"256.1.1.1:53\" must be an IP address, optionally with "
          ":PORT",
          "test.toml:2:70: dns server \"127.0.0.1:53\" is listed twice",
          "test.toml:2:98: dns server \"::1\" is listed twice",
          "test.toml:5:12: [[backend_pool]] \"a\": server \"256.1.1.1\" is neither an IPv4/IPv6 "
          "address nor a valid host name (an IPv4 address is four decimal numbers 0-255, and a "
          "host name's last label is not all digits)",
          "test.toml:5:25: [[backend_pool]] \"a\": server \"1.2.3\" is neither an IPv4/IPv6 "
          "address nor a valid host name (an IPv4 address is four decimal numbers 0-255, and a "
          "host name's last label is not all digits)",
          "test.toml:5:34: [[backend_pool]] \"a\": server \"999.999.999.999\" is neither an "
          "IPv4/IPv6 address nor a valid host name (an IPv4 address is four decimal numbers "
          "0-255, and a host name's last label is not all digits)",
          "test.toml:5:53: [[backend_pool]] \"a\": server \"api.123\" is neither an IPv4/IPv6 "
          "address nor a valid host name (a host name's last label is not all digits)",
          "test.toml:5:64: [[backend_pool]] \"a\": server \"[::1]\" is neither an IPv4/IPv6 "
          "address nor a valid host name (write IPv6 addresses without brackets)",
          "test.toml:5:73: [[backend_pool]] \"a\": server \"10.0.0.5:80\" is neither an "
          "IPv4/IPv6 address nor a valid host name (no port here: the port belongs to the "
          "backend settings)",
          "test.toml:9:13: [[backend_settings]] \"s\".host_name \"256.1.1.1\" is neither an "
          "IPv4/IPv6 address nor a valid host name (an IPv4 address is four decimal numbers "
          "0-255, and a host name's last label is not all digits)",
          "test.toml:13:8: [[probe]] \"p\".host \"1.2.3\" is neither an IPv4/IPv6 address nor a "
          "valid host name (an IPv4 address is four decimal numbers 0-255, and a host name's "
          "last label is not all digits)"));
}

TEST(Config, NamesThatBecomeLabelsRefuseControlCharacters) {
  EXPECT_THAT(errorsOf(R"([[backend_pool]]
name = "a\u0000b"
servers = ["10.0.0.5"]
backend_settings = ["s\tx"]
[[backend_settings]]
name = "s\tx"
probe = "p"
[[probe]]
name = "p\u007F"
)"),
              ElementsAre("test.toml:2:8: [[backend_pool]] name \"a\\u0000b\" contains control "
                          "character U+0000: names become metric label values",
                          "test.toml:4:21: [[backend_pool]].backend_settings refers to unknown "
                          "backend_settings \"s\\u0009x\" (none is defined)",
                          "test.toml:6:8: [[backend_settings]] name \"s\\u0009x\" contains control "
                          "character U+0009: names become metric label values",
                          "test.toml:7:9: [[backend_settings]].probe refers to unknown probe "
                          "\"p\" (none is defined)",
                          "test.toml:9:8: [[probe]] name \"p\\u007F\" contains control character "
                          "U+007F: names become metric label values"));
}

TEST(Config, InvalidUtf8IsRefusedWithItsPosition) {
  EXPECT_THAT(errorsOf("[[backend_pool]]\nname = \"a\xff\"\n"),
              ElementsAre("test.toml:2:9: Encountered invalid utf-8 sequence"));
}

TEST(Config, DuplicateTrustedRootPath) {
  EXPECT_THAT(errorsWithPool(R"([[backend_settings]]
name = "s"
protocol = "https"
trusted_root_certificates = ["/nonexistent/root.pem", "/nonexistent/./root.pem"]
)"),
              ElementsAre(::testing::StartsWith("test.toml:8:30: [[backend_settings]] "
                                                "\"s\".trusted_root_certificates: "
                                                "\"/nonexistent/root.pem\": cannot read"),
                          "test.toml:8:55: [[backend_settings]] \"s\".trusted_root_certificates: "
                          "\"/nonexistent/./root.pem\" is listed twice"));
}

TEST(Config, LabelTextProblem) {
  EXPECT_EQ(labelTextProblem("api-1"), "");
  EXPECT_EQ(labelTextProblem("Zürich ☕ 𝄞"), "");
  EXPECT_EQ(labelTextProblem(std::string("a\0b", 3)), "control character U+0000");
  EXPECT_EQ(labelTextProblem("a\x1f"), "control character U+001F");
  EXPECT_EQ(labelTextProblem("a\x7f"), "control character U+007F");
  EXPECT_EQ(labelTextProblem("a\xc2\x9f"), "control character U+009F");
  EXPECT_EQ(labelTextProblem("ab\xff"), "invalid UTF-8 at byte 3");
  EXPECT_EQ(labelTextProblem("a\xc3"), "invalid UTF-8 at byte 2");             // truncated
  EXPECT_EQ(labelTextProblem("\xc0\xaf"), "invalid UTF-8 at byte 1");          // overlong '/'
  EXPECT_EQ(labelTextProblem("\xed\xa0\x80"), "invalid UTF-8 at byte 1");      // surrogate
  EXPECT_EQ(labelTextProblem("\xf4\x90\x80\x80"), "invalid UTF-8 at byte 1");  // > U+10FFFF
}

TEST(Config, ServerSyntax) {
  EXPECT_TRUE(isIpLiteral("10.0.0.5"));
  EXPECT_TRUE(isIpLiteral("::1"));
  EXPECT_FALSE(isIpLiteral("api.test"));
  EXPECT_TRUE(isValidHostName("api-1.internal.example"));
  EXPECT_TRUE(isValidHostName("localhost"));
  EXPECT_TRUE(isValidHostName("example.com."));
  EXPECT_FALSE(isValidHostName("-bad.example"));
  EXPECT_FALSE(isValidHostName("bad-.example"));
  EXPECT_FALSE(isValidHostName("a..b"));
  EXPECT_FALSE(isValidHostName("a b"));
  EXPECT_FALSE(isValidHostName(std::string(64, 'a') + ".example"));
  // No IPv4 address, so no host name either: the last label is all digits.
  EXPECT_FALSE(isValidHostName("256.1.1.1"));
  EXPECT_FALSE(isValidHostName("1.2.3"));
  EXPECT_FALSE(isValidHostName("999.999.999.999"));
  EXPECT_FALSE(isValidHostName("1.2.3.4."));
  EXPECT_FALSE(isValidHostName("api.123"));
  EXPECT_FALSE(isValidHostName("123"));
  EXPECT_TRUE(isValidHostName("123.example"));
  EXPECT_TRUE(isValidHostName("api.1a"));
  EXPECT_TRUE(isValidHostName("1a"));
}

}  // namespace
}  // namespace bhe
