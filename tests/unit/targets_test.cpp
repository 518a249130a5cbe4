#include "config/targets.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

Config load(const std::string& text) {
  ConfigLoad l = parseConfig(text, "t.toml");
  if (!l.config) {
    ADD_FAILURE() << l.errors.at(0).str();
    return {};
  }
  return *l.config;
}

TEST(Targets, OnePerPoolSettingsServerInConfigOrder) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["127.0.0.1", "h.test"]
backend_settings = ["s1", "s2"]
[[backend_pool]]
name = "b"
servers = ["::1"]
backend_settings = ["s2"]
[[backend_settings]]
name = "s1"
[[backend_settings]]
name = "s2"
port = 8080
)");
  auto targets = expandTargets(c);
  ASSERT_EQ(targets.size(), 5u);
  EXPECT_EQ(targets[0].key, (TargetKey{"a", "s1", "127.0.0.1"}));
  EXPECT_EQ(targets[1].key, (TargetKey{"a", "s1", "h.test"}));
  EXPECT_EQ(targets[2].key, (TargetKey{"a", "s2", "127.0.0.1"}));
  EXPECT_EQ(targets[4].key, (TargetKey{"b", "s2", "::1"}));
  EXPECT_TRUE(targets[0].server_is_ip);
  EXPECT_FALSE(targets[1].server_is_ip);
}

TEST(Targets, DefaultProbeUsesAzureDefaults) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s"]
[[backend_settings]]
name = "s"
port = 8080
)");
  auto t = expandTargets(c).at(0);
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.interval, std::chrono::seconds(30));
  EXPECT_EQ(t.timeout, std::chrono::seconds(30));
  EXPECT_EQ(t.unhealthy_threshold, 3);
  EXPECT_EQ(t.host_header, "127.0.0.1:8080");  // <protocol>://127.0.0.1:<port>/
  EXPECT_EQ(t.tls_host, "");
  EXPECT_EQ(t.probe_name, "");
}

TEST(Targets, HostPrecedence) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["override", "pick-address", "custom-host", "custom-from-settings", "ipv6"]
[[backend_settings]]
name = "override"
protocol = "https"
host_name = "api.example.com"
[[backend_settings]]
name = "pick-address"
pick_host_name_from_backend_address = true
[[backend_settings]]
name = "custom-host"
host_name = "ignored.example.com"
probe = "with-host"
[[backend_settings]]
name = "custom-from-settings"
host_name = "settings.example.com"
port = 8443
protocol = "https"
probe = "from-settings"
[[backend_settings]]
name = "ipv6"
host_name = "::1"
[[probe]]
name = "with-host"
host = "probe.example.com"
[[probe]]
name = "from-settings"
pick_host_name_from_backend_settings = true
)");
  auto t = expandTargets(c);
  EXPECT_EQ(t[0].host_header, "api.example.com");  // https on 443: no port
  EXPECT_EQ(t[0].tls_host, "api.example.com");
  EXPECT_EQ(t[1].host_header, "10.0.0.5");
  EXPECT_EQ(t[2].host_header, "probe.example.com");
  EXPECT_EQ(t[3].host_header, "settings.example.com:8443");
  EXPECT_EQ(t[3].tls_host, "settings.example.com");
  EXPECT_EQ(t[4].host_header, "[::1]");
}

TEST(Targets, SameProbingDetectsChanges) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["s"]
[[backend_settings]]
name = "s"
)");
  auto a = expandTargets(c).at(0);
  auto b = a;
  EXPECT_TRUE(a.sameProbing(b));
  b.match.body = "OK";
  EXPECT_FALSE(a.sameProbing(b));
  b = a;
  b.interval = std::chrono::seconds(1);
  EXPECT_FALSE(a.sameProbing(b));
}

}  // namespace
}  // namespace bhe
