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

TEST(Targets, SniNameSetsTheTlsHostOnly) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["10.0.0.5"]
backend_settings = ["default-probe", "probe-host", "no-host", "no-sni-check"]
[[backend_settings]]
name = "default-probe"
protocol = "https"
host_name = "api.example.com"
sni_name = "tls.example.com"
[[backend_settings]]
name = "probe-host"
protocol = "https"
port = 8443
sni_name = "tls.example.com"
probe = "with-host"
[[backend_settings]]
name = "no-host"
protocol = "https"
sni_name = "tls.example.com"
[[backend_settings]]
name = "no-sni-check"
protocol = "https"
pick_host_name_from_backend_address = true
validate_sni = false
[[probe]]
name = "with-host"
host = "probe.example.com"
)");
  auto t = expandTargets(c);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].host_header, "api.example.com");
  EXPECT_EQ(t[0].tls_host, "tls.example.com");
  EXPECT_EQ(t[1].host_header, "probe.example.com:8443");
  EXPECT_EQ(t[1].tls_host, "tls.example.com");
  EXPECT_EQ(t[2].host_header, "127.0.0.1");
  EXPECT_EQ(t[2].tls_host, "tls.example.com");
  EXPECT_TRUE(t[0].validate_sni);
  EXPECT_EQ(t[3].tls_host, "10.0.0.5");
  EXPECT_FALSE(t[3].validate_sni);
}

TEST(Targets, SecondVersionSettingsReachEveryTarget) {
  Config c = load(R"(
[[backend_pool]]
name = "a"
servers = ["10.0.0.5", "api.example"]
backend_settings = ["tls", "plain"]
draining = ["api.example"]
labels = { team = "payments" }
[[backend_pool]]
name = "b"
servers = ["api.example"]
backend_settings = ["tls"]
[[backend_settings]]
name = "tls"
protocol = "https"
address_families = ["ipv4"]
check_revocation = true
trusted_root_certificates = []
probe = "p"
[[backend_settings]]
name = "plain"
[[backend_settings]]
name = "unverified"
protocol = "https"
validate_cert_chain_and_expiry = false
[[backend_pool]]
name = "c"
servers = ["10.0.0.7"]
backend_settings = ["unverified"]
[[probe]]
name = "p"
interval = "30s"
unhealthy_interval = "5s"
)");
  auto t = expandTargets(c);
  ASSERT_EQ(t.size(), 6u);
  // a/tls/10.0.0.5, a/tls/api.example, a/plain/10.0.0.5, a/plain/api.example, b/tls/api.example,
  // c/unverified/10.0.0.7
  EXPECT_EQ(t[0].address_families, (AddressFamilies{true, false}));
  EXPECT_TRUE(t[0].check_revocation);
  EXPECT_TRUE(t[0].validate_cert_chain_and_expiry);
  EXPECT_EQ(t[0].interval, std::chrono::seconds(30));
  EXPECT_EQ(t[0].unhealthy_interval, std::chrono::seconds(5));
  EXPECT_FALSE(t[0].draining);
  EXPECT_TRUE(t[1].draining);
  EXPECT_TRUE(t[3].draining);
  EXPECT_FALSE(t[4].draining);  // the same server in a pool that does not drain it
  EXPECT_EQ(t[2].address_families, (AddressFamilies{true, true}));
  EXPECT_FALSE(t[2].check_revocation);
  EXPECT_EQ(t[2].unhealthy_interval, std::chrono::seconds(30));  // default probe
  EXPECT_FALSE(t[5].validate_cert_chain_and_expiry);
  // One roots vector per settings, shared by its targets in every pool.
  ASSERT_NE(t[0].trusted_roots, nullptr);
  EXPECT_EQ(t[0].trusted_roots, t[1].trusted_roots);
  EXPECT_EQ(t[0].trusted_roots, t[4].trusted_roots);
  EXPECT_EQ(t[2].trusted_roots, nullptr);
  EXPECT_EQ(t[0].client_identity, nullptr);
  // Pool labels stay per pool, on the config.
  EXPECT_EQ(c.findPool("a")->labels, (std::vector<PoolLabel>{{"team", "payments"}}));
  EXPECT_TRUE(c.findPool("b")->labels.empty());
}

}  // namespace
}  // namespace bhe
