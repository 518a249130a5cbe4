// The exporter's single HTTP listener (civetweb, in its own threads): a small router of exact
// paths to handlers. Handlers run on web threads and must never block on the probe loop beyond a
// bounded wait (see LoopBridge).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class CivetServer;

namespace bhe {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;    // decoded; first occurrence wins
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string remote_address;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class WebServer {
 public:
  WebServer();
  ~WebServer();

  // methods: e.g. {"GET", "HEAD"}; other methods on the path get 405.
  void route(const std::string& path, std::vector<std::string> methods, HttpHandler handler);
  // Runs before every route; returning a response short-circuits the request (authentication).
  void setGate(std::function<std::optional<HttpResponse>(const HttpRequest&)> gate);

  // listen_address: ":9985", "0.0.0.0:9985", "127.0.0.1:0". Throws std::runtime_error.
  void start(const std::string& listen_address);
  void stop();
  // The port actually bound (useful with port 0).
  int port() const;

  // Dispatches one request through the gate and the routes (also used by tests).
  HttpResponse dispatch(const HttpRequest& request) const;

 private:
  class Handler;
  struct Route {
    std::vector<std::string> methods;
    HttpHandler handler;
  };
  std::map<std::string, Route> routes_;
  std::function<std::optional<HttpResponse>(const HttpRequest&)> gate_;
  std::unique_ptr<CivetServer> server_;
  std::unique_ptr<Handler> handler_;
};

// "host:port" / ":port" -> the civetweb listening_ports value; throws on bad syntax.
std::string civetListeningPorts(const std::string& listen_address);

}  // namespace bhe
