#include "exporter/web_server.h"

#include <CivetServer.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/host_port.h"

namespace bhe {
namespace {

constexpr long long kMaxRequestBody = 64 * 1024;

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

std::string urlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(in[i + 1]) &&
               std::isxdigit(in[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(const char* query) {
  std::map<std::string, std::string> out;
  if (query == nullptr) {
    return out;
  }
  std::string_view q(query);
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = urlDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : urlDecode(pair.substr(eq + 1));
    if (!key.empty()) {
      out.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

std::string civetListeningPorts(const std::string& listen_address) {
  auto parsed = parseHostPort(
      listen_address, {.port_required = true, .allow_port_zero = true, .allow_empty_host = true});
  if (!parsed.value) {
    throw std::runtime_error("--web.listen-address \"" + listen_address +
                             "\" must be HOST:PORT or :PORT (" + parsed.error + ")");
  }
  const std::string& host = parsed.value->host;
  const std::string port = std::to_string(*parsed.value->port);
  if (host.empty() || host == "0.0.0.0") {
    return port;
  }
  if (host.find(':') != std::string::npos) {
    throw std::runtime_error("--web.listen-address \"" + listen_address +
                             "\": IPv6 listening is not supported by this build's civetweb");
  }
  return host + ":" + port;
}

class WebServer::Handler : public CivetHandler {
 public:
  explicit Handler(const WebServer& server) : server_(server) {}
  bool handleGet(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePost(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleHead(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePut(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleDelete(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleOptions(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePatch(CivetServer*, mg_connection* c) override { return serve(c); }

 private:
  bool serve(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    HttpRequest request;
    request.method = info->request_method ? info->request_method : "";
    request.path = info->local_uri ? info->local_uri : "/";
    request.query = parseQuery(info->query_string);
    request.remote_address = info->remote_addr;
    for (int i = 0; i < info->num_headers; ++i) {
      std::string name = info->http_headers[i].name;
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      request.headers.emplace(std::move(name), info->http_headers[i].value);
    }
    HttpResponse response;
    if (info->content_length > kMaxRequestBody) {
      response = {413, "text/plain; charset=utf-8", "request body too large\n", {}};
    } else {
      if (info->content_length > 0) {
        request.body.resize(static_cast<std::size_t>(info->content_length));
        int n = mg_read(conn, request.body.data(), request.body.size());
        request.body.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      }
      response = server_.dispatch(request);
    }
    std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                       std::string(reasonPhrase(response.status)) +
                       "\r\nContent-Type: " + response.content_type +
                       "\r\nContent-Length: " + std::to_string(response.body.size()) +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [k, v] : response.headers) {
      head += k + ": " + v + "\r\n";
    }
    head += "\r\n";
    mg_write(conn, head.data(), head.size());
    if (request.method != "HEAD") {
      mg_write(conn, response.body.data(), response.body.size());
    }
    return true;
  }

  const WebServer& server_;
};

WebServer::WebServer() = default;
WebServer::~WebServer() {
  stop();
}

void WebServer::route(const std::string& path, std::vector<std::string> methods,
                      HttpHandler handler) {
  routes_[path] = Route{std::move(methods), std::move(handler)};
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

void WebServer::start(const std::string& listen_address) {
  std::vector<std::string> options{"listening_ports",    civetListeningPorts(listen_address),
                                   "num_threads",        "4",
                                   "request_timeout_ms", "10000",
                                   "enable_keep_alive",  "no"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on " + listen_address + ": " + e.what() +
                             " (address in use, or not a local address?)");
  }
  handler_ = std::make_unique<Handler>(*this);
  server_->addHandler("/", *handler_);
}

void WebServer::stop() {
  if (server_) {
    server_->close();
    server_.reset();
  }
}

int WebServer::port() const {
  if (!server_) {
    return 0;
  }
  auto ports = server_->getListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace bhe
