// Hostile configuration input through the real loading path (loadConfigFile / parseConfig, toml++
// included): nesting that used to crash the parser, and files that are not files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "config/config.h"
#include "config/toml_limits.h"

namespace bhe {
namespace {

using ::testing::HasSubstr;

std::string repeat(std::string_view piece, int times, std::string_view separator = "") {
  std::string out;
  for (int i = 0; i < times; ++i) {
    out += i == 0 ? "" : separator;
    out += piece;
  }
  return out;
}

constexpr std::string_view kPool =
    "[exporter]\ndns_servers = [\"127.0.0.1:5353\"]\n"
    "[[backend_pool]]\nname = \"p\"\nservers = [\"127.0.0.1\"]\nbackend_settings = [\"s\"]\n";

std::string onlyErrorOf(const ConfigLoad& load) {
  EXPECT_FALSE(load.config);
  EXPECT_EQ(load.errors.size(), 1u);
  return load.errors.empty() ? "" : load.errors[0].str();
}

std::vector<std::string> errorsOf(const ConfigLoad& load) {
  std::vector<std::string> out;
  for (const auto& e : load.errors) {
    out.push_back(e.str());
  }
  return out;
}

// The four shapes of the issue, each about 80 KB: they segfaulted inside toml++ (check-config
// and reload alike) before the structure was checked ahead of the parser.
TEST(ConfigLimits, DeeplyNestedTomlIsAnErrorWithItsPosition) {
  const int levels = 40000;
  const std::string too_deep = "nested more than 32 levels deep";
  struct Case {
    std::string text;
    std::string where_and_what;
  };
  for (const Case& c : {
           Case{"[" + repeat("a", levels, ".") + "]\n", "t.toml:1:66: table header"},
           Case{"[[" + repeat("a", levels, ".") + "]]\n", "t.toml:1:67: table header"},
           Case{repeat("a", levels, ".") + " = 1\n", "t.toml:1:65: dotted key"},
           Case{"x = " + repeat("[", levels) + repeat("]", levels) + "\n", "t.toml:1:37: array"},
           Case{"x = " + repeat("{a = ", levels) + "1" + repeat("}", levels) + "\n",
                "t.toml:1:161: inline table"},
       }) {
    ASSERT_GE(c.text.size(), 80000u);
    ConfigLoad load = parseConfig(c.text + std::string(kPool), "t.toml");
    EXPECT_FALSE(load.config);
    ASSERT_EQ(load.errors.size(), 1u) << c.where_and_what;
    EXPECT_THAT(load.errors[0].str(), ::testing::StartsWith(c.where_and_what + " " + too_deep));
  }
}

TEST(ConfigLimits, NestingJustWithinTheLimitReachesTheParserAndValidation) {
  // 32 levels pass the pre-check; toml++ parses them and validation names the unknown key.
  ConfigLoad load = parseConfig(
      std::string(kPool) + "[[backend_settings]]\nname = \"s\"\n[" + repeat("a", 32, ".") + "]\n",
      "t.toml");
  EXPECT_THAT(errorsOf(load),
              ::testing::ElementsAre("t.toml:9:2: unknown key \"a\" at the top level (known keys: "
                                     "exporter, backend_pool, backend_settings, probe)"));
}

TEST(ConfigLimits, TooManyValuesAreRefusedBeforeTheParserBuildsThem) {
  // 4 MiB of short array elements: two million values, 150 MiB inside toml++ (more than the
  // exporter container's memory limit) before validation could refuse them.
  const std::string text = "x = [" + repeat("1", 2 * 1000 * 1000, ",") + "]\n";
  ASSERT_LE(text.size(), kMaxConfigFileBytes);
  EXPECT_THAT(onlyErrorOf(parseConfig(text, "t.toml")),
              ::testing::StartsWith("t.toml:1:1000004: more than 500000 values"));
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bhe-config-limits-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string fifo(const std::string& name) {
    EXPECT_EQ(::mkfifo(path(name).c_str(), 0600), 0) << std::strerror(errno);
    return path(name);
  }
  std::filesystem::path dir_;
};

// Loads on another thread, so that a load that blocks (on a FIFO) fails the test instead of
// hanging it; the blocked thread cannot be cancelled, so the process exits.
ConfigLoad loadWithin(const std::string& file) {
  auto loading = std::async(std::launch::async, [=] { return loadConfigFile(file); });
  if (loading.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fprintf(stderr, "FAILED: loading %s blocked for 10 s\n", file.c_str());
    std::_Exit(1);
  }
  return loading.get();
}

TEST_F(ConfigFileTest, ConfigThatIsNotARegularFile) {
  // Each of these used to hang (FIFO), grow the process by gigabytes (/dev/zero) or be read as
  // an empty config ("no [[backend_pool]] defined").
  EXPECT_EQ(onlyErrorOf(loadWithin(fifo("config.toml"))),
            path("config.toml") +
                ": cannot read the config file: it is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(onlyErrorOf(loadWithin("/dev/zero")),
            "/dev/zero: cannot read the config file: it is a character device, not a regular "
            "file");
  std::filesystem::create_symlink("/dev/zero", dir_ / "zero.toml");
  EXPECT_EQ(onlyErrorOf(loadWithin(path("zero.toml"))),
            path("zero.toml") +
                ": cannot read the config file: it is a character device, not a regular file");
  EXPECT_EQ(onlyErrorOf(loadWithin(dir_.string())),
            dir_.string() + ": cannot read the config file: it is a directory, not a regular file");
}

TEST_F(ConfigFileTest, ConfigSizeLimit) {
  // A valid config padded with a comment to exactly the limit is read and accepted.
  std::string config = std::string(kPool) + "[[backend_settings]]\nname = \"s\"\n#";
  std::string padded = config + std::string(kMaxConfigFileBytes - config.size() - 1, 'x') + "\n";
  ASSERT_EQ(padded.size(), kMaxConfigFileBytes);
  ConfigLoad load = loadConfigFile(write("big.toml", padded));
  EXPECT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors[0].str());

  EXPECT_EQ(onlyErrorOf(loadWithin(write("huge.toml", padded + "\n"))),
            path("huge.toml") +
                ": cannot read the config file: it is larger than 4 MiB, the limit for a config "
                "file (it has 4194305 bytes)");
}

std::string httpsSettings(const std::string& extra) {
  return std::string(kPool) + "[[backend_settings]]\nname = \"s\"\nprotocol = \"https\"\n" + extra;
}

TEST_F(ConfigFileTest, TrustedRootThatIsNotARegularFile) {
  std::filesystem::create_directories(dir_ / "certs");
  std::filesystem::create_symlink("/dev/zero", dir_ / "zero.pem");
  const std::string roots = "trusted_root_certificates = [\"" + fifo("fifo.pem") +
                            "\", \"/dev/zero\", \"zero.pem\", \"certs\"]\n";
  const std::string config = write("c.toml", httpsSettings(roots));
  const std::string what = ": [[backend_settings]] \"s\".trusted_root_certificates: \"";
  const int zero_column = 30 + static_cast<int>(path("fifo.pem").size()) + 4;
  EXPECT_THAT(errorsOf(loadWithin(config)),
              ::testing::ElementsAre(
                  config + ":10:30" + what + path("fifo.pem") +
                      "\": cannot read: it is a FIFO (named pipe), not a regular file",
                  config + ":10:" + std::to_string(zero_column) + what +
                      "/dev/zero\": cannot read: it is a character device, not a regular file",
                  config + ":10:" + std::to_string(zero_column + 13) + what +
                      "zero.pem\": cannot read: it is a character device, not a regular file",
                  config + ":10:" + std::to_string(zero_column + 25) + what +
                      "certs\": cannot read: it is a directory, not a regular file"));
}

TEST_F(ConfigFileTest, WellKnownBundleThatIsNotARegularFile) {
  for (const std::string& bundle : {fifo("bundle.pem"), std::string("/dev/zero"), dir_.string()}) {
    const std::string config =
        write("c.toml", "[exporter]\nwell_known_ca_bundle = \"" + bundle + "\"\n" +
                            httpsSettings("").substr(std::string_view("[exporter]\n").size()));
    const std::string error = onlyErrorOf(loadWithin(config));
    EXPECT_THAT(error, ::testing::StartsWith(config + ":2:24: exporter.well_known_ca_bundle \"" +
                                             bundle + "\": cannot read: it is a "));
    EXPECT_THAT(error, HasSubstr(", not a regular file"));
  }
}

}  // namespace
}  // namespace bhe
