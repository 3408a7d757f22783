#pragma once
// A JSON API server on Poco::Net (HttpListener): one Endpoint class per route, one Router, signed
// requests verified before the endpoint runs, a body-size limit, one log line and metrics per
// request, GET /healthz and GET /metrics built in, and a top-level catch that turns a stray
// exception into a logged 500. Endpoints may block (long polls); size max_threads for that.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/signed_request.h"

namespace dcloud {

class HttpListener;

struct ApiRequest {
  std::string method;
  std::string path;
  std::string query;                                // raw, without '?'
  std::map<std::string, std::string> query_params;  // decoded
  std::map<std::string, std::string> path_params;   // from {name} segments of the route
  std::map<std::string, std::string> headers;       // names lower-cased
  std::string body;
  std::string principal;  // authenticated id, for Auth::kSigned routes
  std::string remote;     // peer address

  std::string header(const std::string& lower_name) const;
  std::string queryParam(const std::string& name, const std::string& fallback = "") const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is not `body` but whatever stream() writes, sent with chunked transfer
  // encoding as it is produced (Server-Sent Events). stream() returns when it is done or when
  // the stream goes bad (the client left).
  std::function<void(std::ostream&)> stream;

  static ApiResponse json(const JsonObject& obj, int status = 200);
  static ApiResponse json(const JsonArray& arr, int status = 200);
  static ApiResponse error(const Error& error);
  static ApiResponse text(std::string body, std::string content_type = "text/plain");
  static ApiResponse eventStream(std::function<void(std::ostream&)> writer);
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual ApiResponse handle(const ApiRequest& request) = 0;
};

// Wraps a lambda as an Endpoint, for small routes.
class FunctionEndpoint final : public Endpoint {
 public:
  explicit FunctionEndpoint(std::function<ApiResponse(const ApiRequest&)> fn)
      : fn_(std::move(fn)) {}
  ApiResponse handle(const ApiRequest& request) override { return fn_(request); }

 private:
  std::function<ApiResponse(const ApiRequest&)> fn_;
};

enum class Auth { kNone, kSigned };

class Router {
 public:
  // pattern: "/v1/jobs/{id}/cancel"; {name} matches one non-empty path segment.
  void add(const std::string& method, const std::string& pattern, Auth auth,
           std::shared_ptr<Endpoint> endpoint);

  struct Match {
    Endpoint* endpoint = nullptr;
    Auth auth = Auth::kNone;
    std::string route;  // the pattern, for metrics labels
    std::map<std::string, std::string> params;
    bool path_known = false;  // some route has this path (405 vs 404)
  };
  Match match(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Auth auth;
    std::shared_ptr<Endpoint> endpoint;
  };
  std::vector<Route> routes_;
};

struct ApiServerConfig {
  std::string name = "service";  // for logs and metric labels
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free port; read it back with port()
  std::size_t max_body_bytes = 1 << 20;
  int max_threads = 64;
  int max_queued = 256;
};

class ApiServer {
 public:
  // verifier may be null when no route needs Auth::kSigned. health returns ok when the service can
  // serve (database reachable, ...).
  ApiServer(ApiServerConfig config, Router router, const RequestVerifier* verifier,
            MetricsRegistry& metrics, std::function<Status()> health);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Status start();
  void stop();
  std::uint16_t port() const { return port_; }
  // Connections accepted so far (kept-alive ones count once).
  std::uint64_t totalConnections() const;

 private:
  class Factory;
  ApiServerConfig config_;
  Router router_;
  const RequestVerifier* verifier_;
  MetricsRegistry& metrics_;
  std::function<Status()> health_;
  Logger log_;
  std::unique_ptr<HttpListener> server_;
  std::uint16_t port_ = 0;
};

}  // namespace dcloud
