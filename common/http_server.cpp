#include "common/http_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>

#include <chrono>
#include <sstream>

#include "common/crypto.h"
#include "common/http_errors.h"
#include "common/http_listener.h"

namespace dcloud {

std::string ApiRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string ApiRequest::queryParam(const std::string& name, const std::string& fallback) const {
  auto it = query_params.find(name);
  return it == query_params.end() ? fallback : it->second;
}

ApiResponse ApiResponse::json(const JsonObject& obj, int status) {
  ApiResponse r;
  r.status = status;
  r.body = toJson(obj);
  return r;
}

ApiResponse ApiResponse::json(const JsonArray& arr, int status) {
  ApiResponse r;
  r.status = status;
  r.body = toJson(arr);
  return r;
}

ApiResponse ApiResponse::error(const Error& error) {
  ApiResponse r;
  r.status = httpErrorFor(error).http_status;
  r.body = errorJson(error);
  return r;
}

ApiResponse ApiResponse::eventStream(std::function<void(std::ostream&)> writer) {
  ApiResponse r;
  r.content_type = "text/event-stream";
  r.stream = std::move(writer);
  return r;
}

ApiResponse ApiResponse::text(std::string body, std::string content_type) {
  ApiResponse r;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

namespace {
std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Auth auth,
                 std::shared_ptr<Endpoint> endpoint) {
  routes_.push_back({method, pattern, splitPath(pattern), auth, std::move(endpoint)});
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  const std::vector<std::string> segments = splitPath(path);
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& want = r.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params[want.substr(1, want.size() - 2)] = segments[i];
      } else if (want != segments[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    m.path_known = true;
    if (r.method != method) continue;
    m.endpoint = r.endpoint.get();
    m.auth = r.auth;
    m.route = r.pattern;
    m.params = std::move(params);
    return m;
  }
  return m;
}

class ApiServer::Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(ApiServer& server) : server_(server) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(server_);
  }

 private:
  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(ApiServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override;

   private:
    ApiResponse dispatch(Poco::Net::HTTPServerRequest& req, ApiRequest& api, std::string& route);
    ApiServer& server_;
  };
  ApiServer& server_;
};

ApiResponse ApiServer::Factory::Handler::dispatch(Poco::Net::HTTPServerRequest& req,
                                                  ApiRequest& api, std::string& route) {
  api.method = req.getMethod();
  const std::string& uri = req.getURI();
  std::size_t q = uri.find('?');
  api.path = uri.substr(0, q);
  api.query = q == std::string::npos ? "" : uri.substr(q + 1);
  try {
    Poco::URI parsed(uri);
    for (const auto& [k, v] : parsed.getQueryParameters()) api.query_params[k] = v;
  } catch (const Poco::Exception&) {
    return ApiResponse::error(invalidArgument("malformed request URI"));
  }
  for (const auto& [k, v] : req) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    api.headers[name] = v;
  }
  api.remote = req.clientAddress().toString();

  if (api.method == "GET" && api.path == "/healthz") {
    route = "/healthz";
    Status h = server_.health_();
    if (!h.ok()) return ApiResponse::error(unavailable(h.error().message));
    Poco::JSON::Object::Ptr obj = new Poco::JSON::Object;
    obj->set("status", "ok");
    obj->set("service", server_.config_.name);
    return ApiResponse::json(obj);
  }
  if (api.method == "GET" && api.path == "/metrics") {
    route = "/metrics";
    return ApiResponse::text(server_.metrics_.renderPrometheus(), "text/plain; version=0.0.4");
  }

  Router::Match m = server_.router_.match(api.method, api.path);
  if (!m.endpoint) {
    route = "unmatched";
    if (m.path_known) {
      return ApiResponse::error(invalidArgument("method " + api.method + " not allowed here"));
    }
    return ApiResponse::error(notFound("no such endpoint: " + api.path));
  }
  route = m.route;
  api.path_params = std::move(m.params);

  // Read the body with a hard limit, whatever Content-Length claims.
  const std::size_t limit = server_.config_.max_body_bytes;
  if (req.hasContentLength() && req.getContentLength64() > static_cast<std::int64_t>(limit)) {
    return ApiResponse::error(
        invalidArgument("request body exceeds " + std::to_string(limit) + " bytes"));
  }
  std::istream& in = req.stream();
  char buf[8192];
  while (in) {
    in.read(buf, sizeof buf);
    api.body.append(buf, static_cast<std::size_t>(in.gcount()));
    if (api.body.size() > limit) {
      return ApiResponse::error(
          invalidArgument("request body exceeds " + std::to_string(limit) + " bytes"));
    }
  }

  if (m.auth == Auth::kSigned) {
    if (!server_.verifier_) return ApiResponse::error(internalError("no request verifier"));
    RequestToSign to_sign{api.method, api.path, api.query, sha256Hex(api.body)};
    auto principal = server_.verifier_->verify(api.header("authorization"), to_sign);
    if (!principal.ok()) return ApiResponse::error(principal.error());
    api.principal = *principal;
  }
  return m.endpoint->handle(api);
}

void ApiServer::Factory::Handler::handleRequest(Poco::Net::HTTPServerRequest& req,
                                                Poco::Net::HTTPServerResponse& resp) {
  const auto start = std::chrono::steady_clock::now();
  ApiRequest api;
  std::string route = "unmatched";
  ApiResponse out;
  try {
    out = dispatch(req, api, route);
  } catch (const std::exception& e) {
    server_.log_.error("unhandled exception on " + api.method + " " + api.path + ": " + e.what());
    out = ApiResponse::error(internalError("internal error"));
  }
  try {
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
    resp.setContentType(out.content_type);
    for (const auto& [k, v] : out.headers) resp.set(k, v);
    if (out.stream) {
      resp.setChunkedTransferEncoding(true);
      resp.set("Cache-Control", "no-cache");
      std::ostream& os = resp.send();
      os.flush();
      out.stream(os);
    } else {
      resp.setContentLength64(static_cast<std::int64_t>(out.body.size()));
      resp.send().write(out.body.data(), static_cast<std::streamsize>(out.body.size()));
    }
  } catch (const std::exception& e) {
    server_.log_.warn("could not send response to " + api.remote + ": " + e.what());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string status = std::to_string(out.status);
  server_.metrics_
      .counter("dcloud_http_requests_total", "HTTP requests served",
               {{"service", server_.config_.name},
                {"route", route},
                {"method", api.method},
                {"status", status}})
      .inc();
  server_.metrics_
      .histogram("dcloud_http_request_seconds", "HTTP request latency",
                 {{"service", server_.config_.name}, {"route", route}})
      .observe(seconds);
  if (route != "/metrics" && route != "/healthz") {
    std::ostringstream line;
    line << "request " << api.method << ' ' << api.path << ' ' << out.status << ' '
         << static_cast<long long>(seconds * 1000) << "ms";
    if (!api.principal.empty()) line << " principal=" << api.principal.substr(0, 16);
    if (out.status >= 400 && out.body.size() < 400) line << " error=" << out.body;
    server_.log_.info(line.str());
  }
}

ApiServer::ApiServer(ApiServerConfig config, Router router, const RequestVerifier* verifier,
                     MetricsRegistry& metrics, std::function<Status()> health)
    : config_(std::move(config)),
      router_(std::move(router)),
      verifier_(verifier),
      metrics_(metrics),
      health_(std::move(health)),
      log_(config_.name) {}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::start() {
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(config_.host, config_.port), true);
    socket.listen(256);
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(config_.max_threads);
    params->setMaxQueued(config_.max_queued);
    params->setKeepAlive(true);
    // An idle kept connection holds one of max_threads; clients (ApiClient) drop theirs after 2 s.
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setTimeout(Poco::Timespan(120, 0));
    // A request head Poco cannot read (a Content-Length that is no number) still gets JSON.
    server_ = std::make_unique<HttpListener>(
        new Factory(*this), socket, params, [](const std::string& reason) {
          return BadRequestReply{errorJson(invalidArgument(reason)), "application/json"};
        });
    server_->start();
  } catch (const Poco::Exception& e) {
    return unavailable("cannot listen on " + config_.host + ":" + std::to_string(config_.port) +
                       ": " + e.displayText());
  }
  log_.info("listening on http://" + config_.host + ":" + std::to_string(port_));
  return okStatus();
}

std::uint64_t ApiServer::totalConnections() const {
  return server_ ? static_cast<std::uint64_t>(server_->totalConnections()) : 0;
}

void ApiServer::stop() {
  if (server_) {
    server_->stopAll(true);
    server_.reset();
    log_.info("stopped");
  }
}

}  // namespace dcloud
