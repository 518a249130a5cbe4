// Name resolution with c-ares, driven by the probe loop (socket polls plus one timer): no
// resolver threads. Answers are cached for their TTL and concurrent lookups of one name share a
// single query, so 10,000 FQDN servers do not mean 10,000 queries per interval.
#pragma once

#include <ares.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bhe {

class Resolver {
 public:
  struct Answer {
    int status = ARES_SUCCESS;           // ARES_SUCCESS or the ARES_E* failure
    std::vector<std::string> addresses;  // IPv4 first, then IPv6, as text
  };
  using Callback = std::function<void(const Answer&)>;

  // `servers`: "ip[:port]" entries; empty = the system resolvers (/etc/resolv.conf).
  // Throws std::runtime_error when c-ares cannot be initialised.
  Resolver(uv_loop_t* loop, const std::vector<std::string>& servers);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The callback runs on the loop, exactly once, possibly before resolve() returns (cache hit);
  // with ARES_EDESTRUCTION when the resolver is destroyed first.
  void resolve(const std::string& name, Callback callback);

  // Fails every pending lookup with ARES_ECANCELLED (shutdown).
  void cancelAll() { ares_cancel(channel_); }

  // For messages: "127.0.0.1:5353" or "" for the system resolvers.
  const std::string& serversText() const { return servers_text_; }

 private:
  struct SocketPoll;
  struct CacheEntry {
    std::vector<std::string> addresses;
    std::chrono::steady_clock::time_point expiry;
  };

  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable);
  static void onAddrInfo(void* arg, int status, int timeouts, struct ares_addrinfo* result);
  void armTimer();
  void finish(const std::string& name, const Answer& answer);

  uv_loop_t* loop_;
  ares_channel channel_ = nullptr;
  uv_timer_t* timer_;  // heap-allocated: it is closed asynchronously
  std::unordered_map<ares_socket_t, SocketPoll*> polls_;
  std::unordered_map<std::string, std::vector<Callback>> waiting_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::string servers_text_;
};

}  // namespace bhe
