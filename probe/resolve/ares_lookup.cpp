#include "probe/resolve/ares_lookup.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "common/descriptor_budget.h"

namespace bhe {

struct AresLookup::Query {
  AresLookup* lookup;
  Callback done;
  std::uint64_t socket_failures_before;  // AresLookup::socket_failures_ when it was sent
};

// c-ares' own socket calls, except that opening one is the probe loop's business: it must not
// take a descriptor kept for the web surface, and when it cannot open one, the lookup's failure
// ("could not contact the DNS servers") must say that the exporter is at fault, not the servers.
// With these functions set, c-ares leaves the socket options to us: non-blocking, close-on-exec,
// and no Nagle delay for queries over TCP.
ares_socket_t AresLookup::openSocket(int domain, int type, int protocol, void* data) {
  auto* self = static_cast<AresLookup*>(data);
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  int error = fd < 0 ? errno : 0;
  if (fd >= 0 && type == SOCK_STREAM) {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  if (fd >= 0 && !probeMayKeepDescriptor(fd)) {
    ::close(fd);
    fd = -1;
    error = EMFILE;
  }
  if (fd < 0) {
    ++self->socket_failures_;
    self->last_socket_error_ = -error;  // as libuv reports errors
    errno = error;
    return ARES_SOCKET_BAD;
  }
  return fd;
}

const ares_socket_functions AresLookup::kSocketFunctions{
    &AresLookup::openSocket,
    [](ares_socket_t fd, void*) { return ::close(fd); },
    [](ares_socket_t fd, const sockaddr* addr, ares_socklen_t len, void*) {
      return ::connect(fd, addr, len);
    },
    [](ares_socket_t fd, void* buffer, std::size_t length, int flags, sockaddr* from,
       ares_socklen_t* from_length,
       void*) -> ares_ssize_t { return ::recvfrom(fd, buffer, length, flags, from, from_length); },
    [](ares_socket_t fd, const iovec* parts, int count, void*) -> ares_ssize_t {
      return ::writev(fd, parts, count);
    },
};

AresLookup::AresLookup(uv_loop_t* loop, const std::vector<std::string>& servers) : loop_(loop) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });

  ares_options options{};
  options.sock_state_cb = &AresLookup::onSocketState;
  options.sock_state_cb_data = this;
  // NOCHECKRESP: without it c-ares folds SERVFAIL and REFUSED into "could not contact servers",
  // and those must be reported as answers (the resolver is reachable but failing).
  options.flags = ARES_FLAG_NOCHECKRESP;
  options.timeout = 2000;  // per try, in ms; the probe timeout bounds the whole lookup anyway
  options.tries = 2;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  int status = ares_init_options(&channel_, &options, mask);
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("cannot initialise the DNS resolver: ") +
                             ares_strerror(status));
  }
  for (const auto& s : servers) {
    servers_text_ += servers_text_.empty() ? "" : ",";
    servers_text_ += s;
  }
  if (!servers.empty()) {
    status = ares_set_servers_ports_csv(channel_, servers_text_.c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("bad dns_servers \"" + servers_text_ +
                               "\": " + ares_strerror(status));
    }
  }
  ares_set_socket_functions(channel_, &kSocketFunctions, this);
  timer_ = UvHandle<uv_timer_t>([loop](uv_timer_t* h) { return uv_timer_init(loop, h); });
  timer_->data = this;
}

AresLookup::~AresLookup() {
  // Sockets are closed through onSocketState, which drops their polls.
  dropping_ = true;
  ares_destroy(channel_);
}

void AresLookup::cancelAll() {
  dropping_ = true;
  ares_cancel(channel_);  // runs every pending callback with ARES_ECANCELLED, now
  dropping_ = false;
}

void AresLookup::onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<AresLookup*>(data);
  if (!readable && !writable) {
    self->polls_.erase(fd);  // closes the poll
    return;
  }
  auto it = self->polls_.find(fd);
  if (it == self->polls_.end()) {
    UvHandle<uv_poll_t> poll(
        [self, fd](uv_poll_t* h) { return uv_poll_init_socket(self->loop_, h, fd); });
    if (!poll.ok()) {
      return;  // c-ares then times the query out
    }
    poll->data = self;
    it = self->polls_.emplace(fd, std::move(poll)).first;
  }
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(it->second.get(), events, [](uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<AresLookup*>(handle->data);
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &fd);
    if (status < 0) {
      ares_process_fd(self->channel_, fd, fd);  // let c-ares see the error
    } else {
      ares_process_fd(self->channel_, (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                      (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
    }
    self->armTimer();
  });
}

void AresLookup::armTimer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    uv_timer_stop(timer_.get());
    return;
  }
  std::uint64_t ms = static_cast<std::uint64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<AresLookup*>(t->data);
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->armTimer();
      },
      std::max<std::uint64_t>(ms, 1), 0);
}

void AresLookup::lookup(const std::string& name, Callback done) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &AresLookup::onAddrInfo,
                   new Query{this, std::move(done), socket_failures_});
  armTimer();
}

void AresLookup::onAddrInfo(void* arg, int status, int /*timeouts*/, struct ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  DnsAnswer answer{status, {}, std::chrono::seconds(0)};
  int min_ttl = std::numeric_limits<int>::max();
  if (status == ARES_SUCCESS && result != nullptr) {
    std::vector<std::string> v6;
    for (auto* node = result->nodes; node != nullptr; node = node->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      if (node->ai_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(node->ai_addr);
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        answer.addresses.emplace_back(text);
      } else if (node->ai_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(node->ai_addr);
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        v6.emplace_back(text);
      } else {
        continue;
      }
      min_ttl = std::min(min_ttl, node->ai_ttl);
    }
    answer.addresses.insert(answer.addresses.end(), v6.begin(), v6.end());
    if (answer.addresses.empty()) {
      answer.status = ARES_ENODATA;
    } else {
      answer.ttl = std::chrono::seconds(std::max(min_ttl, 0));
    }
  }
  if (result != nullptr) {
    ares_freeaddrinfo(result);
  }
  if (query->lookup->dropping_ || status == ARES_EDESTRUCTION) {
    return;
  }
  // c-ares gives up on a server it cannot open a socket to and reports ECONNREFUSED once no
  // server is left.
  if (status == ARES_ECONNREFUSED &&
      query->lookup->socket_failures_ != query->socket_failures_before) {
    answer.socket_error = query->lookup->last_socket_error_;
  }
  query->done(answer);
}

}  // namespace bhe
