// A DnsLookup whose lookups wait until the test answers them, in order.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "probe/resolve/dns_lookup.h"

namespace bhe::test {

class ScriptedLookup final : public DnsLookup {
 public:
  struct Pending {
    std::string name;
    Callback done;
  };
  void lookup(const std::string& name, Callback done) override {
    ++sent;
    pending.push_back({name, std::move(done)});
  }
  void cancelAll() override { pending.clear(); }
  const std::string& serversText() const override { return servers; }

  void answer(DnsAnswer a) {
    ASSERT_FALSE(pending.empty());
    Pending p = std::move(pending.front());
    pending.pop_front();
    p.done(a);
  }

  std::deque<Pending> pending;
  int sent = 0;
  std::string servers = "127.0.0.1:5353";
};

inline DnsAnswer addresses(std::vector<std::string> a,
                           std::chrono::seconds ttl = std::chrono::seconds(30)) {
  return DnsAnswer{ARES_SUCCESS, std::move(a), ttl};
}

}  // namespace bhe::test
