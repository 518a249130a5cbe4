// DNS lookups with c-ares, driven by the probe loop (socket polls plus one timer): no resolver
// threads. A and AAAA in one ares_getaddrinfo.
#pragma once

#include <ares.h>
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/uv_handle.h"
#include "probe/resolve/dns_lookup.h"

namespace bhe {

class AresLookup final : public DnsLookup {
 public:
  // `servers`: "ip[:port]" entries; empty = the system resolvers (/etc/resolv.conf).
  // Throws std::runtime_error when c-ares cannot be initialised or refuses the servers.
  AresLookup(uv_loop_t* loop, const std::vector<std::string>& servers);
  ~AresLookup() override;

  void lookup(const std::string& name, Callback done) override;
  void cancelAll() override;
  const std::string& serversText() const override { return servers_text_; }

 private:
  struct Query;
  static ares_socket_t openSocket(int domain, int type, int protocol, void* data);
  static const ares_socket_functions kSocketFunctions;
  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable);
  static void onAddrInfo(void* arg, int status, int timeouts, struct ares_addrinfo* result);
  void armTimer();

  uv_loop_t* loop_;
  ares_channel channel_ = nullptr;
  UvHandle<uv_timer_t> timer_;
  std::unordered_map<ares_socket_t, UvHandle<uv_poll_t>> polls_;
  std::string servers_text_;
  bool dropping_ = false;  // answers arriving now are for nobody (cancelAll, destruction)
  std::uint64_t socket_failures_ = 0;  // sockets c-ares asked for and did not get
  int last_socket_error_ = 0;          // the latest of them, as a libuv error (-EMFILE)
};

}  // namespace bhe
