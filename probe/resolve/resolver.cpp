#include "probe/resolve/resolver.h"

#include <algorithm>

namespace bhe {

Resolver::Request::Request(Resolver& resolver, std::string name, Callback callback)
    : resolver_(resolver), name_(std::move(name)), callback_(std::move(callback)) {}

Resolver::Request::~Request() {
  if (waiting_) {
    resolver_.withdraw(this);
  }
}

void Resolver::Request::answer(const Answer& answer) {
  waiting_ = false;
  fallback_.reset();
  // The callback may destroy this request: nothing here is touched after it.
  Callback callback = std::move(callback_);
  callback(answer);
}

Resolver::Resolver(Dispatcher& dispatcher, std::unique_ptr<DnsLookup> lookup)
    : dispatcher_(dispatcher), lookup_(std::move(lookup)) {}

Resolver::~Resolver() {
  if (lookup_) {
    lookup_->cancelAll();
  }
}

const std::string& Resolver::serversText() const {
  static const std::string kNone;
  return lookup_ ? lookup_->serversText() : kNone;
}

void Resolver::setLookup(std::unique_ptr<DnsLookup> lookup) {
  if (lookup_) {
    lookup_->cancelAll();
  }
  lookup_ = std::move(lookup);
  cache_.clear();
  if (!lookup_) {
    return;  // shutting down: waiters (if any) are withdrawn by their owners
  }
  for (const auto& [name, waiters] : waiting_) {
    sendLookup(name);
  }
}

std::unique_ptr<Resolver::Request> Resolver::resolve(const std::string& name,
                                                     std::chrono::milliseconds stale_fallback_after,
                                                     Callback callback) {
  std::unique_ptr<Request> request(new Request(*this, name, std::move(callback)));
  if (auto cached = cache_.find(name); cached != cache_.end()) {
    if (dispatcher_.now() < cached->second.expiry) {
      request->answer(Answer{ARES_SUCCESS, cached->second.addresses, false, false, serversText()});
      return request;
    }
    cache_.erase(cached);
  }
  auto [waiters, first] = waiting_.try_emplace(name);
  waiters->second.push_back(request.get());
  request->waiting_ = true;
  if (stale_fallback_after.count() > 0 && last_known_.contains(name)) {
    Request* waiter = request.get();
    waiter->fallback_ = dispatcher_.createTimer([this, waiter] {
      auto known = last_known_.find(waiter->name_);
      if (known == last_known_.end()) {
        return;  // forgotten by a reload meanwhile: wait for the lookup after all
      }
      withdraw(waiter);
      waiter->answer(Answer{ARES_ETIMEOUT, known->second, true, true, serversText()});
    });
    waiter->fallback_->arm(stale_fallback_after);
  }
  if (first) {
    sendLookup(name);
  }
  return request;
}

void Resolver::sendLookup(const std::string& name) {
  if (!lookup_) {
    onLookupDone(name, DnsAnswer{ARES_ENOTINITIALIZED, {}, std::chrono::seconds(0)});
    return;
  }
  lookup_->lookup(name, [this, name](const DnsAnswer& answer) { onLookupDone(name, answer); });
}

void Resolver::onLookupDone(const std::string& name, const DnsAnswer& dns) {
  Answer answer{dns.status, {}, false, false, serversText(), dns.socket_error};
  if (dns.status == ARES_SUCCESS && !dns.addresses.empty()) {
    answer.addresses = dns.addresses;
    last_known_[name] = dns.addresses;
    if (dns.ttl.count() > 0) {
      cache_[name] = CacheEntry{dns.addresses, dispatcher_.now() + std::min(dns.ttl, kMaxCacheTtl)};
    }
  } else if (auto known = last_known_.find(name); known != last_known_.end()) {
    answer.addresses = known->second;
    answer.stale = true;
  }
  // One waiter at a time, taken from the live list: a callback may withdraw other waiters (their
  // requests destroyed) or add new ones, and each sees a consistent list.
  for (auto it = waiting_.find(name); it != waiting_.end() && !it->second.empty();
       it = waiting_.find(name)) {
    Request* waiter = it->second.front();
    it->second.pop_front();
    waiter->answer(answer);
  }
  waiting_.erase(name);
}

void Resolver::withdraw(Request* request) {
  auto it = waiting_.find(request->name_);
  if (it != waiting_.end()) {
    it->second.remove(request);  // the query stays in flight: its answer refreshes the cache
  }
  request->waiting_ = false;
}

void Resolver::retainLastKnown(const std::set<std::string>& names) {
  std::erase_if(last_known_, [&](const auto& entry) { return !names.contains(entry.first); });
  std::erase_if(cache_, [&](const auto& entry) { return !names.contains(entry.first); });
}

}  // namespace bhe
