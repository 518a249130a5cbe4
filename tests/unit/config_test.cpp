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
                          "name, servers, backend_settings)"));
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
}

}  // namespace
}  // namespace bhe
