#include "probe/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace bhe {
namespace {

// Cached answers live at most this long, whatever their TTL, so that a changed record is seen
// within a minute even from a resolver that hands out long TTLs.
constexpr auto kMaxCacheTtl = std::chrono::seconds(60);

struct Lookup {
  Resolver* resolver;
  std::string name;
};

}  // namespace

struct Resolver::SocketPoll {
  uv_poll_t handle;
  Resolver* resolver;
  ares_socket_t fd;
};

Resolver::Resolver(uv_loop_t* loop, const std::vector<std::string>& servers) : loop_(loop) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });

  ares_options options{};
  options.sock_state_cb = &Resolver::onSocketState;
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
  if (!servers.empty()) {
    for (const auto& s : servers) {
      servers_text_ += servers_text_.empty() ? "" : ",";
      servers_text_ += s;
    }
    status = ares_set_servers_ports_csv(channel_, servers_text_.c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("bad dns_servers \"" + servers_text_ +
                               "\": " + ares_strerror(status));
    }
  }
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

Resolver::~Resolver() {
  // Pending lookups get ARES_EDESTRUCTION through onAddrInfo; sockets are closed through
  // onSocketState, which closes their polls.
  ares_destroy(channel_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Resolver::onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Resolver*>(data);
  auto it = self->polls_.find(fd);
  if (!readable && !writable) {
    if (it != self->polls_.end()) {
      uv_poll_stop(&it->second->handle);
      uv_close(reinterpret_cast<uv_handle_t*>(&it->second->handle),
               [](uv_handle_t* h) { delete static_cast<SocketPoll*>(h->data); });
      self->polls_.erase(it);
    }
    return;
  }
  SocketPoll* poll;
  if (it == self->polls_.end()) {
    poll = new SocketPoll{{}, self, fd};
    uv_poll_init_socket(self->loop_, &poll->handle, fd);
    poll->handle.data = poll;
    self->polls_.emplace(fd, poll);
  } else {
    poll = it->second;
  }
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(&poll->handle, events, [](uv_poll_t* handle, int status, int events) {
    auto* p = static_cast<SocketPoll*>(handle->data);
    Resolver* resolver = p->resolver;
    ares_socket_t fd = p->fd;
    if (status < 0) {
      ares_process_fd(resolver->channel_, fd, fd);  // let c-ares see the error
    } else {
      ares_process_fd(resolver->channel_, (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                      (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
    }
    resolver->armTimer();
  });
}

void Resolver::armTimer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    uv_timer_stop(timer_);
    return;
  }
  std::uint64_t ms = static_cast<std::uint64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Resolver*>(t->data);
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->armTimer();
      },
      std::max<std::uint64_t>(ms, 1), 0);
}

void Resolver::resolve(const std::string& name, Callback callback) {
  auto cached = cache_.find(name);
  if (cached != cache_.end()) {
    if (std::chrono::steady_clock::now() < cached->second.expiry) {
      callback(Answer{ARES_SUCCESS, cached->second.addresses});
      return;
    }
    cache_.erase(cached);
  }
  auto [it, first] = waiting_.try_emplace(name);
  it->second.push_back(std::move(callback));
  if (!first) {
    return;  // a query for this name is already on its way
  }
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Resolver::onAddrInfo,
                   new Lookup{this, name});
  armTimer();
}

void Resolver::onAddrInfo(void* arg, int status, int /*timeouts*/, struct ares_addrinfo* result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(arg));
  Answer answer{status, {}};
  int min_ttl = std::numeric_limits<int>::max();
  if (status == ARES_SUCCESS && result != nullptr) {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    for (auto* node = result->nodes; node != nullptr; node = node->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      if (node->ai_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(node->ai_addr);
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        v4.emplace_back(text);
      } else if (node->ai_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(node->ai_addr);
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        v6.emplace_back(text);
      } else {
        continue;
      }
      min_ttl = std::min(min_ttl, node->ai_ttl);
    }
    answer.addresses = std::move(v4);
    answer.addresses.insert(answer.addresses.end(), v6.begin(), v6.end());
    if (answer.addresses.empty()) {
      answer.status = ARES_ENODATA;
    }
  }
  if (result != nullptr) {
    ares_freeaddrinfo(result);
  }
  Resolver* self = lookup->resolver;
  if (answer.status == ARES_SUCCESS && min_ttl > 0) {
    auto ttl = std::min<std::chrono::seconds>(std::chrono::seconds(min_ttl), kMaxCacheTtl);
    self->cache_[lookup->name] =
        CacheEntry{answer.addresses, std::chrono::steady_clock::now() + ttl};
  }
  self->finish(lookup->name, answer);
}

void Resolver::finish(const std::string& name, const Answer& answer) {
  auto it = waiting_.find(name);
  if (it == waiting_.end()) {
    return;
  }
  std::vector<Callback> callbacks = std::move(it->second);
  waiting_.erase(it);
  for (auto& cb : callbacks) {
    cb(answer);
  }
}

}  // namespace bhe
