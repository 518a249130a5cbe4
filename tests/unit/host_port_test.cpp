#include "common/host_port.h"

#include <gtest/gtest.h>

namespace bhe {
namespace {

HostPort parsed(std::string_view text, HostPortRules rules = {}) {
  auto p = parseHostPort(text, rules);
  EXPECT_TRUE(p.value) << text << ": " << p.error;
  return p.value.value_or(HostPort{});
}

std::string errorOf(std::string_view text, HostPortRules rules = {}) {
  auto p = parseHostPort(text, rules);
  EXPECT_FALSE(p.value) << text;
  return p.error;
}

TEST(HostPort, NamesAndLiteralsWithAndWithoutPort) {
  EXPECT_EQ(parsed("10.0.0.5").host, "10.0.0.5");
  EXPECT_FALSE(parsed("10.0.0.5").port);
  EXPECT_EQ(parsed("10.0.0.5:53").port, 53);
  EXPECT_EQ(parsed("dns.test:5353").host, "dns.test");
  EXPECT_EQ(parsed("[::1]:5353").host, "::1");
  EXPECT_EQ(parsed("[::1]:5353").port, 5353);
  EXPECT_EQ(parsed("[fe80::1]").host, "fe80::1");
  EXPECT_EQ(parsed("::1").host, "::1");  // bare IPv6: no port
  EXPECT_FALSE(parsed("::1").port);
}

TEST(HostPort, PortRules) {
  EXPECT_EQ(errorOf("1.2.3.4:"), "empty port after ':'");
  EXPECT_EQ(errorOf("1.2.3.4:0"), "port 0 is outside 1-65535");
  EXPECT_EQ(errorOf("1.2.3.4:65536"), "port 65536 is outside 1-65535");
  EXPECT_EQ(errorOf("1.2.3.4:http"), "port \"http\" is not a number");
  EXPECT_EQ(errorOf("1.2.3.4:+53"), "port \"+53\" is not a number");
  EXPECT_EQ(errorOf("1.2.3.4", {.port_required = true}), "missing ':PORT'");
  EXPECT_EQ(parsed("127.0.0.1:0", {.allow_port_zero = true}).port, 0);
  EXPECT_EQ(parsed(":9985", {.allow_empty_host = true}).host, "");
  EXPECT_EQ(errorOf(":9985"), "missing host");
}

TEST(HostPort, Brackets) {
  EXPECT_EQ(errorOf("[::1"), "missing ']' after the IPv6 address");
  EXPECT_EQ(errorOf("[::1]x"), "expected ':PORT' after ']'");
  EXPECT_EQ(errorOf("[]:53"), "empty IPv6 address in brackets");
  EXPECT_EQ(bracketIpv6("::1"), "[::1]");
  EXPECT_EQ(bracketIpv6("10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(bracketIpv6("api.test"), "api.test");
  EXPECT_EQ(joinHostPort("::1", 443), "[::1]:443");
  EXPECT_EQ(joinHostPort("10.0.0.5", 80), "10.0.0.5:80");
}

}  // namespace
}  // namespace bhe
