#include "common/descriptor_budget.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "common/uv_handle.h"
#include "probe/classify/classify.h"
#include "probe/connect/tcp_stream.h"
#include "probe/resolve/ares_lookup.h"

namespace bhe {
namespace {

// These tests change the process's descriptor limit and use up its descriptors, so each runs in
// a child process of its own (a gtest death test that is expected to exit 0).
// "threadsafe": the child is a fresh run of this binary, not a fork of a process whose earlier
// tests started threads.
#define EXPECT_IN_CHILD(body)                            \
  do {                                                   \
    GTEST_FLAG_SET(death_test_style, "threadsafe");      \
    EXPECT_EXIT(body, ::testing::ExitedWithCode(0), ""); \
  } while (false)

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::_Exit(1);
  }
}

void setSoftLimit(rlim_t soft) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = soft;
  require(setrlimit(RLIMIT_NOFILE, &limit) == 0, "setrlimit");
}

// Opens descriptors until the next one the kernel hands out is `next`.
void fillUpTo(int next) {
  for (;;) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    require(fd >= 0, "open /dev/null");
    if (fd + 1 >= next) {
      return;
    }
  }
}

TEST(DescriptorBudget, TheReserveIsAnEighthOfSmallLimitsAndAtMost64) {
  EXPECT_EQ(descriptorReserve(64), 8u);
  EXPECT_EQ(descriptorReserve(256), 32u);
  EXPECT_EQ(descriptorReserve(512), 64u);
  EXPECT_EQ(descriptorReserve(1048576), 64u);
}

TEST(DescriptorBudgetDeathTest, TheProbeLoopLeavesTheTopOfTheLimit) {
  EXPECT_IN_CHILD({
    setSoftLimit(128);  // reserve 16: descriptors 112..127 are the web surface's
    require(probeMayKeepDescriptor(3), "a low descriptor");
    require(probeMayKeepDescriptor(111), "the last descriptor below the reserve");
    require(!probeMayKeepDescriptor(112), "the first descriptor of the reserve");
    require(!probeMayKeepDescriptor(127), "the last descriptor of the limit");
    require(!probeMayKeepDescriptor(-1), "no descriptor");
    // Raised at run time: seen at the next refusal.
    setSoftLimit(1024);
    require(probeMayKeepDescriptor(112), "after the limit was raised");
    // Lowered at run time: seen within 100 ms.
    setSoftLimit(128);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    require(!probeMayKeepDescriptor(112), "after the limit was lowered");
    std::exit(0);
  });
}

TEST(DescriptorBudgetDeathTest, RaisesTheSoftLimitToTheHardLimit) {
  EXPECT_IN_CHILD({
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    require(limit.rlim_max > 64, "a hard limit above 64");
    setSoftLimit(64);
    const NoFileLimit raised = raiseNoFileLimit();
    require(raised.error.empty(), "no error");
    require(raised.soft_before == 64, "soft_before");
    getrlimit(RLIMIT_NOFILE, &limit);
    require(limit.rlim_cur == limit.rlim_max || limit.rlim_max == RLIM_INFINITY, "raised");
    require(raised.soft == limit.rlim_cur, "reported");
    std::exit(0);
  });
}

// A connect that would take a reserved descriptor fails at once with EMFILE, before anything is
// sent (nothing listens at the address; it is never contacted).
TEST(DescriptorBudgetDeathTest, TcpConnectGivesBackAReservedDescriptor) {
  EXPECT_IN_CHILD({
    setSoftLimit(64);  // reserve 8
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
      // libuv keeps a spare descriptor per loop (for accept under EMFILE), opened with the
      // first stream: before the count starts.
      UvHandle<uv_tcp_t> first([&](uv_tcp_t* h) { return uv_tcp_init(&loop, h); });
    }
    fillUpTo(56);
    {
      TcpStream stream(&loop);
      bool called = false;
      int rc = stream.connect("127.0.0.1", 9, [&](int) { called = true; });
      require(rc == UV_EMFILE, "EMFILE from connect");
      require(
          classifyConnectFailure(rc, "127.0.0.1:9").reason == Reason::kExporterResourceExhausted,
          "classified as the exporter's");
      uv_run(&loop, UV_RUN_NOWAIT);
      require(!called, "no connect callback");
    }
    // The descriptor went back: the next one is the same number.
    int fd = open("/dev/null", O_RDONLY);
    require(fd == 56, "the descriptor was given back");
    close(fd);
    close(55);
    {
      TcpStream stream(&loop);
      int rc = stream.connect("127.0.0.1", 9, [](int) {});
      require(rc == 0, "a descriptor below the reserve is kept");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    std::exit(0);
  });
}

// c-ares that cannot open a socket reports "could not contact the DNS servers"; the lookup says
// it was the exporter's descriptors.
TEST(DescriptorBudgetDeathTest, DnsLookupWithoutASocketIsTheExportersFault) {
  EXPECT_IN_CHILD({
    setSoftLimit(64);
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::optional<DnsAnswer> answer;
    {
      AresLookup lookup(&loop, {"127.0.0.1:9"});
      fillUpTo(56);
      lookup.lookup("api.test", [&](const DnsAnswer& a) { answer = a; });
      for (int i = 0; i < 100 && !answer; ++i) {
        uv_run(&loop, UV_RUN_NOWAIT);
      }
      require(answer.has_value(), "an answer");
      require(answer->status == ARES_ECONNREFUSED, "ECONNREFUSED from c-ares");
      require(answer->socket_error == UV_EMFILE, "EMFILE as the socket error");
      require(classifyDnsFailure(answer->status, "api.test", "127.0.0.1:9", answer->socket_error)
                      .reason == Reason::kExporterResourceExhausted,
              "classified as the exporter's");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    std::exit(0);
  });
}

}  // namespace
}  // namespace bhe
