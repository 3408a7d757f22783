#include "storage-gateway/gateway_server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "common/http_errors.h"
#include "common/http_listener.h"
#include "common/log.h"
#include "storage-gateway/admin_api.h"
#include "storage-gateway/authenticator.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

constexpr std::int64_t kMaxDrainBytes = 1 << 20;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string badContentLengthReply(const std::string& resource, const std::string& request_id) {
  const std::string body =
      errorXml("InvalidArgument", "Content-Length must be a decimal number.", resource, request_id);
  return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nx-amz-request-id: " + request_id +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

// ---- S3Exchange -----------------------------------------------------------------------------

std::istream& S3Exchange::body() {
  stream_used_ = true;
  return http_request_.stream();
}

namespace {

// HTTPSession::read is protected: it serves the bytes the session buffered with the headers,
// then receives straight into the caller's buffer. Reached through a derived class's member
// pointer, the standard way to call a protected member on another object.
struct SessionReader : Poco::Net::HTTPSession {
  static int readFrom(Poco::Net::HTTPSession& session, char* out, std::streamsize n) {
    int (Poco::Net::HTTPSession::*read_member)(char*, std::streamsize) = &SessionReader::read;
    return (session.*read_member)(out, n);
  }
};

}  // namespace

std::size_t S3Exchange::readBody(char* out, std::size_t n) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&http_request_);
  if (impl == nullptr || stream_used_ || http_request_.getChunkedTransferEncoding() ||
      contentLength() < 0) {
    std::istream& in = body();
    in.read(out, static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount()));
  }
  // The caller never asks past Content-Length, so the next request's bytes stay unread.
  try {
    const int got = SessionReader::readFrom(impl->session(), out, static_cast<std::streamsize>(n));
    if (got <= 0) return 0;
    direct_bytes_ += got;
    return static_cast<std::size_t>(got);
  } catch (const Poco::Exception&) {
    return 0;  // timeout or reset: the body is incomplete
  }
}

std::int64_t S3Exchange::contentLength() const {
  if (!http_request_.hasContentLength()) return -1;
  try {
    return http_request_.getContentLength64();
  } catch (const Poco::Exception&) {
    return -1;  // not a number: dispatch() refuses such requests before any body is read
  }
}

void S3Exchange::setHeader(const std::string& name, const std::string& value) {
  http_response_.set(name, value);
}

bool S3Exchange::sent() const {
  return http_response_.sent();
}

void S3Exchange::drainOrClose() {
  if (body_consumed_) return;
  const std::int64_t declared = contentLength();
  const bool has_body = declared > 0 || http_request_.getChunkedTransferEncoding();
  body_consumed_ = true;
  if (!has_body) return;
  if (declared > kMaxDrainBytes || declared < 0) {
    http_response_.setKeepAlive(false);
    return;
  }
  char buf[16384];
  // What readBody() already took does not pass through the body stream: it goes on that way.
  std::int64_t left = declared - direct_bytes_;
  while (left > 0) {
    const std::size_t got =
        readBody(buf, static_cast<std::size_t>(std::min<std::int64_t>(left, sizeof buf)));
    if (got == 0) break;
    left -= static_cast<std::int64_t>(got);
    record_.bytes_in += static_cast<std::int64_t>(got);
  }
  if (left > 0) http_response_.setKeepAlive(false);
}

void S3Exchange::prepare(int status) {
  drainOrClose();
  record_.status = status;
  http_response_.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  http_response_.set("x-amz-request-id", record_.request_id);
  http_response_.set("Server", "dcloud-gateway");
}

void S3Exchange::sendXml(int status, const std::string& xml) {
  prepare(status);
  http_response_.setContentType("application/xml");
  http_response_.setContentLength64(static_cast<Poco::Int64>(xml.size()));
  record_.bytes_out += static_cast<std::int64_t>(xml.size());
  http_response_.sendBuffer(xml.data(), xml.size());
}

void S3Exchange::sendEmpty(int status) {
  prepare(status);
  http_response_.setContentLength64(0);
  http_response_.send();
}

void S3Exchange::sendError(const Error& error, const std::string& resource) {
  const S3ErrorInfo info = s3ErrorInfo(error);
  if (http_request_.getMethod() == "HEAD") {
    sendEmpty(info.http_status);
    return;
  }
  // An internal error's detail stays in the log; the client gets a generic message.
  const std::string message = info.http_status >= 500 && info.code == "InternalError"
                                  ? "We encountered an internal error. Please try again."
                                  : error.message;
  sendXml(info.http_status, errorXml(info.code, message, resource, record_.request_id));
}

std::ostream& S3Exchange::beginBody(int status, std::int64_t length,
                                    const std::string& content_type) {
  prepare(status);
  http_response_.setContentType(content_type);
  http_response_.setContentLength64(length);
  return http_response_.send();
}

// ---- server state and handlers ---------------------------------------------------------------

struct GatewayServer::State {
  State(const GatewayConfig& config, GatewayServices s)
      : services(std::move(s)),
        log("gateway"),
        authenticator(services.keys, services.verifier, services.clock, config.region),
        admin(services.metadata, services.keys, services.verifier, config.admins, services.clock),
        deps{services.metadata, services.objects, services.clock, services.random, config, log} {}

  GatewayServices services;
  Logger log;
  Authenticator authenticator;
  AdminApi admin;
  S3Deps deps;
};

namespace {

class GatewayHandler final : public HTTPRequestHandler {
 public:
  explicit GatewayHandler(GatewayServer::State& state) : state_(state) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override;

 private:
  void dispatch(S3Exchange& ex, const std::map<std::string, std::string>& headers);
  // granted: the identity a canned ACL lends to a refused read (aclReadAccess) instead of the
  // request's own authentication.
  Status dispatchS3(S3Exchange& ex, const S3Request& req,
                    const std::optional<AuthContext>& granted = std::nullopt);
  void serveAdmin(S3Exchange& ex, const std::map<std::string, std::string>& headers);
  void serveHealth(S3Exchange& ex);
  void serveMetrics(S3Exchange& ex);
  void finish(const RequestRecord& record, const HTTPServerRequest& request,
              std::chrono::steady_clock::time_point start);

  GatewayServer::State& state_;
};

void GatewayHandler::handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) {
  const auto start = std::chrono::steady_clock::now();
  RequestRecord record;
  std::string id = state_.services.random.hex(8);
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  record.request_id = id;
  S3Exchange ex(request, response, record);
  try {
    std::map<std::string, std::string> headers;
    for (const auto& [name, value] : request) {
      std::string key = lower(name);
      auto it = headers.find(key);
      if (it == headers.end())
        headers.emplace(std::move(key), value);
      else
        it->second += "," + value;
    }
    dispatch(ex, headers);
  } catch (const std::exception& e) {
    state_.log.error("request " + record.request_id + " failed: " + e.what());
    if (!ex.sent()) {
      try {
        ex.sendError(internalError(e.what()), request.getURI());
      } catch (...) {
        record.status = 500;
      }
    }
  } catch (...) {
    state_.log.error("request " + record.request_id + " failed with an unknown exception");
    record.status = 500;
  }
  finish(record, request, start);
}

void GatewayHandler::dispatch(S3Exchange& ex, const std::map<std::string, std::string>& headers) {
  HTTPServerRequest& request = ex.httpRequest();
  const std::string& uri = request.getURI();
  const std::string path = uri.substr(0, uri.find('?'));
  const bool anonymous = headers.count("authorization") == 0;
  if (auto length = headers.find("content-length"); length != headers.end()) {
    const std::string& v = length->second;
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      // Where this body ends is unknown: the reply goes straight to the socket (Poco's response
      // stream would flush it only after the close below), then the connection ends.
      ex.record().status = 400;
      ex.markBodyConsumed();
      ex.httpResponse().setKeepAlive(false);
      return replyAndClose(static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket(),
                           badContentLengthReply(path, ex.record().request_id));
    }
  }
  const std::vector<std::string>& domains = state_.deps.config.domains;
  auto host = headers.find("host");
  // On a bucket's own host name every path is a key of that bucket.
  const bool virtual_host =
      host != headers.end() && virtualHostBucket(host->second, domains).has_value();
  if (!virtual_host) {
    if (path.rfind("/_dcloud/", 0) == 0) return serveAdmin(ex, headers);
    if (anonymous && request.getMethod() == "GET" && path == "/healthz") return serveHealth(ex);
    if (anonymous && request.getMethod() == "GET" && path == "/metrics") return serveMetrics(ex);
  }

  Result<S3Request> req = parseS3Request(request.getMethod(), uri, headers, domains);
  if (!req.ok()) return ex.sendError(req.error(), path);
  // CORS: preflights need no authentication; matching requests get the Access-Control headers.
  if (req->method == "OPTIONS") {
    Status preflight = corsPreflight(state_.deps, ex, *req);
    if (!preflight.ok() && !ex.sent()) ex.sendError(preflight.error(), req->raw_path);
    return;
  }
  applyCorsHeaders(state_.deps, ex, *req);
  Status st = dispatchS3(ex, *req);
  if (!st.ok() && !ex.sent() && st.error().reason == "AccessDenied") {
    if (std::optional<AuthContext> granted =
            aclReadAccess(state_.deps, *req, ex.record().principal != "-")) {
      if (ex.record().principal == "-") ex.record().principal = "anonymous";
      st = dispatchS3(ex, *req, granted);
    }
  }
  if (!st.ok()) {
    if (st.error().code == ErrorCode::kInternal || st.error().code == ErrorCode::kUnavailable) {
      state_.log.error("request " + ex.record().request_id + ": " + st.error().toString());
    }
    if (!ex.sent()) ex.sendError(st.error(), req->raw_path);
  }
}

Status GatewayHandler::dispatchS3(S3Exchange& ex, const S3Request& req,
                                  const std::optional<AuthContext>& granted) {
  Result<AuthContext> auth =
      granted ? Result<AuthContext>(*granted) : state_.authenticator.authenticate(req);
  if (!auth.ok()) return auth.error();
  if (!granted) ex.record().principal = auth->principal;
  S3Deps& deps = state_.deps;
  const std::string& m = req.method;
  const Error not_allowed =
      s3Error("MethodNotAllowed", "The specified method is not allowed against this resource.");
  if (req.bucket.empty()) {
    if (m == "GET") return listBuckets(deps, ex, req, *auth);
    return not_allowed;
  }
  if (req.key.empty()) {
    if (req.hasQuery("versioning")) {
      if (m == "PUT") return putBucketVersioning(deps, ex, req, *auth);
      if (m == "GET") return getBucketVersioning(deps, ex, req, *auth);
      return not_allowed;
    }
    if (req.hasQuery("versions")) {
      if (m == "GET") return listObjectVersions(deps, ex, req, *auth);
      return not_allowed;
    }
    if (req.hasQuery("delete")) {
      if (m == "POST") return deleteObjects(deps, ex, req, *auth);
      return not_allowed;
    }
  }
  // Object Lock, lifecycle, tagging, CORS and ACL sub-resources (config_ops.h).
  if (std::optional<Status> handled = dispatchBucketConfig(deps, ex, req, *auth)) {
    return *handled;
  }
  // Sub-resources this version does not implement must not fall through to a plain operation
  // (e.g. PUT ?policy must never overwrite the object).
  static const char* const kUnsupported[] = {
      "policy",       "versioning",     "website",           "delete",    "versions", "logging",
      "notification", "replication",    "encryption",        "restore",   "select",   "torrent",
      "accelerate",   "requestPayment", "ownershipControls", "attributes"};
  for (const char* name : kUnsupported) {
    if (req.hasQuery(name)) {
      return s3Error("NotImplemented",
                     std::string("The ") + name + " sub-resource is not supported yet.");
    }
  }
  if (req.key.empty()) {
    if (req.hasQuery("uploads")) {
      if (m == "GET") return listMultipartUploads(deps, ex, req, *auth);
      return not_allowed;
    }
    if (m == "PUT") return createBucket(deps, ex, req, *auth);
    if (m == "DELETE") return deleteBucket(deps, ex, req, *auth);
    if (m == "HEAD") return headBucket(deps, ex, req, *auth);
    if (m == "GET" && req.hasQuery("location")) return getBucketLocation(deps, ex, req, *auth);
    if (m == "GET") return listObjects(deps, ex, req, *auth);
    return not_allowed;
  }
  if (req.hasQuery("uploads")) {
    if (m == "POST") return createMultipartUpload(deps, ex, req, *auth);
    return not_allowed;
  }
  if (req.hasQuery("uploadId")) {
    if (m == "PUT") return uploadPart(deps, ex, req, *auth);
    if (m == "POST") return completeMultipartUpload(deps, ex, req, *auth);
    if (m == "DELETE") return abortMultipartUpload(deps, ex, req, *auth);
    if (m == "GET") return listParts(deps, ex, req, *auth);
    return not_allowed;
  }
  if (req.hasQuery("partNumber")) {
    return s3Error("InvalidArgument", "partNumber needs an uploadId.");
  }
  if (m == "PUT") return putObject(deps, ex, req, *auth);
  if (m == "GET" || m == "HEAD") return getObject(deps, ex, req, *auth);
  if (m == "DELETE") return deleteObject(deps, ex, req, *auth);
  return not_allowed;
}

void GatewayHandler::serveAdmin(S3Exchange& ex, const std::map<std::string, std::string>& headers) {
  HTTPServerRequest& request = ex.httpRequest();
  const std::string& uri = request.getURI();
  const std::size_t q = uri.find('?');
  AdminRequest admin;
  admin.method = request.getMethod();
  admin.path = uri.substr(0, q);
  admin.raw_query = q == std::string::npos ? "" : uri.substr(q + 1);
  auto auth = headers.find("authorization");
  if (auth != headers.end()) admin.authorization = auth->second;
  AdminResponse response;
  const std::int64_t declared = ex.contentLength();
  if (declared > static_cast<std::int64_t>(kMaxAdminBodyBytes) ||
      request.getChunkedTransferEncoding()) {
    response.status = 400;
    response.body =
        errorJson(invalidArgument("admin request bodies are at most 64 KiB and "
                                  "need a Content-Length"));
  } else {
    if (declared > 0) {
      admin.body.resize(static_cast<std::size_t>(declared));
      request.stream().read(admin.body.data(), declared);
      admin.body.resize(
          static_cast<std::size_t>(std::max<std::streamsize>(0, request.stream().gcount())));
      ex.record().bytes_in += static_cast<std::int64_t>(admin.body.size());
    }
    ex.markBodyConsumed();
    if (static_cast<std::int64_t>(admin.body.size()) != std::max<std::int64_t>(declared, 0)) {
      response.status = 400;
      response.body = errorJson(invalidArgument("request body is shorter than Content-Length"));
    } else {
      response = state_.admin.handle(admin);
    }
  }
  ex.record().operation = response.operation;
  ex.record().principal = response.principal;
  HTTPServerResponse& out = ex.httpResponse();
  ex.record().status = response.status;
  ex.record().bytes_out += static_cast<std::int64_t>(response.body.size());
  out.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(response.status));
  out.setContentType("application/json");
  out.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
  out.sendBuffer(response.body.data(), response.body.size());
}

void GatewayHandler::serveHealth(S3Exchange& ex) {
  ex.record().operation = "Health";
  Status st = state_.services.health ? state_.services.health() : okStatus();
  const std::string body =
      st.ok() ? "{\"status\":\"ok\"}" : errorJson(unavailable(st.error().message));
  HTTPServerResponse& out = ex.httpResponse();
  ex.record().status = st.ok() ? 200 : 503;
  out.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(ex.record().status));
  out.setContentType("application/json");
  out.setContentLength64(static_cast<Poco::Int64>(body.size()));
  out.sendBuffer(body.data(), body.size());
}

void GatewayHandler::serveMetrics(S3Exchange& ex) {
  ex.record().operation = "Metrics";
  const std::string body = state_.services.metrics.renderPrometheus();
  HTTPServerResponse& out = ex.httpResponse();
  ex.record().status = 200;
  out.setStatusAndReason(HTTPResponse::HTTP_OK);
  out.setContentType("text/plain; version=0.0.4");
  out.setContentLength64(static_cast<Poco::Int64>(body.size()));
  out.sendBuffer(body.data(), body.size());
}

void GatewayHandler::finish(const RequestRecord& record, const HTTPServerRequest& request,
                            std::chrono::steady_clock::time_point start) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MetricsRegistry& m = state_.services.metrics;
  m.counter("dcloud_gateway_requests_total", "Requests by operation and HTTP status",
            {{"operation", record.operation}, {"status", std::to_string(record.status)}})
      .inc();
  m.counter("dcloud_gateway_bytes_in_total", "Request body bytes received")
      .inc(static_cast<double>(record.bytes_in));
  m.counter("dcloud_gateway_bytes_out_total", "Response body bytes sent")
      .inc(static_cast<double>(record.bytes_out));
  m.histogram("dcloud_gateway_request_seconds", "Request latency by operation",
              {{"operation", record.operation}})
      .observe(seconds);
  const std::string uri = request.getURI();
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f", seconds * 1000);
  state_.log.info(request.getMethod() + " " + uri.substr(0, uri.find('?')) + " " +
                  std::to_string(record.status) + " in=" + std::to_string(record.bytes_in) +
                  " out=" + std::to_string(record.bytes_out) + " " + ms + "ms principal=" +
                  record.principal + " op=" + record.operation + " id=" + record.request_id);
}

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(GatewayServer::State& state) : state_(state) {}
  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new GatewayHandler(state_);
  }

 private:
  GatewayServer::State& state_;
};

}  // namespace

// ---- GatewayServer --------------------------------------------------------------------------

GatewayServer::GatewayServer(GatewayConfig config, GatewayServices services)
    : config_(std::move(config)), state_(std::make_unique<State>(config_, std::move(services))) {}

GatewayServer::~GatewayServer() {
  stop();
  if (ssl_initialized_) Poco::Net::uninitializeSSL();
}

Status GatewayServer::start() {
  const bool tls = !config_.tls_cert_file.empty() || !config_.tls_key_file.empty();
  if (tls && (config_.tls_cert_file.empty() || config_.tls_key_file.empty())) {
    return invalidArgument("HTTPS needs both a certificate and a key file");
  }
  const bool plain = !tls || config_.tls_and_plain;
  try {
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(config_.max_threads);
    params->setMaxQueued(config_.max_queued);
    params->setTimeout(Poco::Timespan(config_.io_timeout_seconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    pool_ = std::make_unique<Poco::ThreadPool>(2, config_.max_threads);
    // A request head Poco cannot read (a Content-Length that is no number) still gets S3's error.
    BadRequestReplier bad_request = [random = &state_->services.random](const std::string&) {
      return BadRequestReply{errorXml("InvalidArgument", "Content-Length must be a decimal number.",
                                      "", random->hex(8)),
                             "application/xml"};
    };
    if (plain) {
      Poco::Net::ServerSocket socket;
      socket.bind(Poco::Net::SocketAddress(config_.host, config_.port), true);
      socket.listen(128);
      port_ = socket.address().port();
      server_ =
          std::make_unique<HttpListener>(new Factory(*state_), *pool_, socket, params, bad_request);
    }
    if (tls) {
      if (!ssl_initialized_) Poco::Net::initializeSSL();
      ssl_initialized_ = true;
      Poco::Net::Context::Ptr context = new Poco::Net::Context(
          Poco::Net::Context::TLS_SERVER_USE, config_.tls_key_file, config_.tls_cert_file, "",
          Poco::Net::Context::VERIFY_NONE, 9, false, "ALL:!ADH:!LOW:!EXP:!MD5:!aNULL:@STRENGTH");
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      Poco::Net::SecureServerSocket socket(context);
      const std::uint16_t want = config_.tls_and_plain ? config_.tls_port : config_.port;
      socket.bind(Poco::Net::SocketAddress(config_.host, want), true);
      socket.listen(128);
      tls_port_ = socket.address().port();
      if (!plain) port_ = tls_port_;
      tls_server_ =
          std::make_unique<HttpListener>(new Factory(*state_), *pool_, socket, params, bad_request);
    }
    if (server_) server_->start();
    if (tls_server_) tls_server_->start();
  } catch (const std::exception& e) {
    server_.reset();
    tls_server_.reset();
    pool_.reset();
    return unavailable("cannot listen on " + config_.host + ":" + std::to_string(config_.port) +
                       ": " + e.what());
  }
  if (server_) state_->log.info("listening on " + config_.host + ":" + std::to_string(port_));
  if (tls_server_) {
    state_->log.info("listening (HTTPS) on " + config_.host + ":" + std::to_string(tls_port_));
  }
  return okStatus();
}

void GatewayServer::stop() {
  if (!server_ && !tls_server_) return;
  std::vector<HttpListener*> servers;
  for (HttpListener* s : {server_.get(), tls_server_.get()}) {
    if (s != nullptr) servers.push_back(s);
  }
  for (HttpListener* s : servers) s->stop();
  auto busy = [&] {
    int n = 0;
    for (HttpListener* s : servers) n += s->currentConnections();
    return n > 0;
  };
  // Running requests get a short grace period; idle keep-alive connections are closed after it.
  for (int i = 0; i < 50 && busy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (HttpListener* s : servers) s->stopAll(true);
  pool_->joinAll();
  server_.reset();
  tls_server_.reset();
  pool_.reset();
}

}  // namespace dcloud::gateway
