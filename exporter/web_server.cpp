#include "exporter/web_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bhe {

// A fixed set of threads taking jobs in arrival order. Jobs still queued at stop() are dropped
// (their responders answer 503); running ones are waited for.
class WebServer::HandlerThreads {
 public:
  explicit HandlerThreads(int count) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }
  HandlerThreads(const HandlerThreads&) = delete;
  HandlerThreads& operator=(const HandlerThreads&) = delete;
  ~HandlerThreads() { stop(); }

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  void stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      dropped.swap(jobs_);
    }
    wake_.notify_all();
    dropped.clear();
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) {
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct WebServer::Lane {
  explicit Lane(int max) : max_concurrent(max), threads(max) {}
  const int max_concurrent;
  std::atomic<int> in_flight{0};  // raised on the loop thread only, lowered by the lane's threads
  HandlerThreads threads;
};

WebServer::WebServer(WebServerOptions options) : options_(std::move(options)) {}

WebServer::~WebServer() {
  stop();
}

void WebServer::route(const std::string& path, std::vector<std::string> methods,
                      HttpHandler handler, RouteOptions options) {
  routes_[path] = Route{std::move(methods), std::move(handler), std::move(options)};
}

void WebServer::setGate(std::function<std::optional<HttpResponse>(const HttpRequest&)> gate) {
  gate_ = std::move(gate);
}

HttpResponse WebServer::dispatch(const HttpRequest& request) const {
  if (gate_) {
    if (auto denied = gate_(request)) {
      return *denied;
    }
  }
  auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    return {404, "text/plain; charset=utf-8", "404 page not found: " + request.path + "\n", {}};
  }
  const auto& methods = it->second.methods;
  if (std::find(methods.begin(), methods.end(), request.method) == methods.end()) {
    std::string allow;
    for (const auto& m : methods) {
      allow += (allow.empty() ? "" : ", ") + m;
    }
    return {405,
            "text/plain; charset=utf-8",
            "method " + request.method + " not allowed on " + request.path + "\n",
            {{"Allow", allow}}};
  }
  try {
    return it->second.handler(request);
  } catch (const std::exception& e) {
    return {
        500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n", {}};
  }
}

// Loop thread: decides where the request runs, never runs it.
void WebServer::accept(HttpRequest request, HttpResponder responder) {
  // std::function needs a copyable job; the request and its responder travel together.
  struct Pending {
    HttpRequest request;
    HttpResponder responder;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(request), std::move(responder)});
  auto lane = lanes_.find(pending->request.path);
  if (lane == lanes_.end()) {
    shared_->submit([this, pending] { pending->responder.respond(dispatch(pending->request)); });
    return;
  }
  Lane& l = *lane->second;
  if (l.in_flight.load() >= l.max_concurrent) {
    pending->responder.respond({429,
                                "text/plain; charset=utf-8",
                                routes_.at(pending->request.path).options.busy_text,
                                {{"Retry-After", "1"}}});
    return;
  }
  l.in_flight.fetch_add(1);
  l.threads.submit([this, &l, pending] {
    HttpResponse response = dispatch(pending->request);
    l.in_flight.fetch_sub(1);
    pending->responder.respond(std::move(response));
  });
}

void WebServer::start(const std::string& listen_address) {
  if (listener_) {
    throw std::logic_error("WebServer::start: already started");
  }
  shared_ = std::make_unique<HandlerThreads>(options_.shared_handler_threads);
  for (const auto& [path, route] : routes_) {
    if (route.options.max_concurrent > 0) {
      lanes_[path] = std::make_unique<Lane>(route.options.max_concurrent);
    }
  }
  listener_ = std::make_unique<WebListener>(options_.limits,
                                            [this](HttpRequest request, HttpResponder responder) {
                                              accept(std::move(request), std::move(responder));
                                            });
  try {
    listener_->start(listen_address);
  } catch (...) {
    stop();
    throw;
  }
}

void WebServer::stop() {
  // Handlers first: those running finish and hand over their answers, the requests that never
  // got a thread are answered 503; then the listener writes those answers and closes.
  for (auto& [path, lane] : lanes_) {
    lane->threads.stop();
  }
  if (shared_) {
    shared_->stop();
  }
  if (listener_) {
    listener_->stop();
    listener_.reset();
  }
  lanes_.clear();
  shared_.reset();
}

int WebServer::port() const {
  return listener_ ? listener_->port() : 0;
}

}  // namespace bhe
