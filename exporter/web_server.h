// The exporter's single HTTP listener: a small router of exact paths to handlers. Sockets live
// on a libuv loop of their own (WebListener), so idle and slow clients never hold a thread.
// Handlers run on handler threads, never on the loop: the shared ones for ordinary routes, and
// a lane of threads of its own for each route with a concurrency cap, so that a slow handler
// (an on-demand probe) never holds the threads /metrics needs. docs/web-surface.md has the
// design and its measurements.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporter/http_message.h"
#include "exporter/web_listener.h"

namespace bhe {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct RouteOptions {
  // 0: the route runs on the shared handler threads. N > 0: at most N requests of the route
  // are handled at once, on N threads of its own; beyond that the server answers
  // 429 Too Many Requests with Retry-After, before authentication and without queueing.
  int max_concurrent = 0;
  std::string busy_text = "too many concurrent requests; retry in a second\n";
};

struct WebServerOptions {
  // Rendering /metrics is CPU-bound (0.1-0.3 s at 10,000 servers): a few threads keep one
  // scrape from waiting for another without oversubscribing the cores.
  int shared_handler_threads = 4;
  WebListenerLimits limits{};
};

class WebServer {
 public:
  explicit WebServer(WebServerOptions options = {});
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // methods: e.g. {"GET", "HEAD"}; other methods on the path get 405. Routes are fixed once the
  // server has started.
  void route(const std::string& path, std::vector<std::string> methods, HttpHandler handler,
             RouteOptions options = {});
  // Runs before every route, on the handler's thread; returning a response short-circuits the
  // request (authentication).
  void setGate(std::function<std::optional<HttpResponse>(const HttpRequest&)> gate);

  // listen_address: ":9985", "0.0.0.0:9985", "127.0.0.1:0", "[::1]:9985". Throws
  // std::runtime_error.
  void start(const std::string& listen_address);
  // Stops listening, closes every connection and joins the handler threads: no handler runs
  // past this point (it waits for handlers that are running). Idempotent.
  void stop();
  // The port actually bound (useful with port 0).
  int port() const;

  // Dispatches one request through the gate and the routes (also used by tests).
  HttpResponse dispatch(const HttpRequest& request) const;

 private:
  class HandlerThreads;
  struct Route {
    std::vector<std::string> methods;
    HttpHandler handler;
    RouteOptions options;
  };
  struct Lane;
  void accept(HttpRequest request, HttpResponder responder);

  WebServerOptions options_;
  std::map<std::string, Route> routes_;
  std::function<std::optional<HttpResponse>(const HttpRequest&)> gate_;
  std::unique_ptr<HandlerThreads> shared_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;  // by path
  std::unique_ptr<WebListener> listener_;
};

}  // namespace bhe
