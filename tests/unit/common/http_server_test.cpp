#include "common/http_server.h"

#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/crypto.h"
#include "common/http_client.h"

namespace dcloud {
namespace {

constexpr std::size_t kMaxBody = 1024;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = makeServer(0);
    Status s = server_->start();
    ASSERT_TRUE(s.ok()) << s.error().toString();
    ASSERT_NE(server_->port(), 0);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  std::unique_ptr<ApiServer> makeServer(std::uint16_t port) {
    Router router;
    router.add("POST", "/v1/echo", Auth::kSigned,
               std::make_shared<FunctionEndpoint>([](const ApiRequest& req) {
                 JsonObject o = new Poco::JSON::Object;
                 o->set("principal", req.principal);
                 o->set("body", req.body);
                 o->set("query", req.query);
                 return ApiResponse::json(o);
               }));
    router.add("GET", "/v1/open", Auth::kNone,
               std::make_shared<FunctionEndpoint>([](const ApiRequest& req) {
                 JsonObject o = new Poco::JSON::Object;
                 o->set("principal", req.principal);
                 return ApiResponse::json(o);
               }));
    router.add("POST", "/v1/open", Auth::kNone,
               std::make_shared<FunctionEndpoint>([](const ApiRequest& req) {
                 JsonObject o = new Poco::JSON::Object;
                 o->set("size", static_cast<std::int64_t>(req.body.size()));
                 return ApiResponse::json(o, 201);
               }));
    router.add("GET", "/v1/items/{id}/parts/{part}", Auth::kNone,
               std::make_shared<FunctionEndpoint>([](const ApiRequest& req) {
                 JsonObject o = new Poco::JSON::Object;
                 o->set("id", req.path_params.at("id"));
                 o->set("part", req.path_params.at("part"));
                 o->set("q", req.queryParam("q", "none"));
                 return ApiResponse::json(o);
               }));
    router.add("GET", "/v1/boom", Auth::kNone,
               std::make_shared<FunctionEndpoint>(
                   [](const ApiRequest&) -> ApiResponse { throw std::runtime_error("kaboom"); }));
    router.add("GET", "/v1/error", Auth::kNone,
               std::make_shared<FunctionEndpoint>(
                   [](const ApiRequest&) { return ApiResponse::error(notFound("no such job")); }));
    ApiServerConfig config;
    config.name = "testsvc";
    config.max_body_bytes = kMaxBody;
    config.max_threads = 4;
    config.port = port;
    return std::make_unique<ApiServer>(config, std::move(router), &verifier_, metrics_,
                                       [this]() -> Status {
                                         if (healthy_) return okStatus();
                                         return unavailable("database down");
                                       });
  }

  void TearDown() override { server_->stop(); }

  static JsonObject jsonBody(const HttpResult& r) {
    auto o = parseJsonObject(r.body);
    EXPECT_TRUE(o.ok()) << "not a JSON object: " << r.body;
    return o.ok() ? *o : JsonObject(new Poco::JSON::Object);
  }

  static void expectError(const Result<HttpResult>& r, int http_status, const std::string& status) {
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ(r->status, http_status) << r->body;
    JsonObject o = jsonBody(*r);
    EXPECT_EQ(getString(o, "status").ok() ? *getString(o, "status") : "", status) << r->body;
    EXPECT_EQ(getInt(o, "code").ok() ? *getInt(o, "code") : 0, http_status) << r->body;
  }

  // A request signed by key_ at the server's current time with the given nonce.
  HeaderList signedHeaders(const std::string& method, const std::string& path,
                           const std::string& query, const std::string& body,
                           const std::string& nonce) {
    RequestToSign req{method, path, query, sha256Hex(body)};
    return {{"Authorization", makeAuthorization(key_, req, clock_.nowMillis(), nonce)}};
  }

  ManualClock clock_;
  MemoryNonceStore nonces_;
  RequestVerifier verifier_{clock_, nonces_};
  MetricsRegistry metrics_;
  std::atomic<bool> healthy_{true};
  std::unique_ptr<ApiServer> server_;
  std::string base_;
  KeyPair key_ = KeyPair::generate();
  SecureRandom& random_ = SecureRandom::instance();
};

TEST_F(HttpServerTest, SignedCallSucceedsAndEndpointSeesPrincipal) {
  ApiClient client(base_, &key_, clock_, random_);
  JsonObject body = new Poco::JSON::Object;
  body->set("hello", "world");
  auto r = client.call("POST", "/v1/echo?x=1&y=a%20b", body);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*getString(*r, "principal"), key_.id());
  EXPECT_EQ(*getString(*r, "body"), toJson(body));
  EXPECT_EQ(*getString(*r, "query"), "x=1&y=a%20b");
}

TEST_F(HttpServerTest, ClientKeepsItsConnectionAcrossCalls) {
  ApiClient client(base_, &key_, clock_, random_);
  const std::uint64_t before = server_->totalConnections();
  for (int i = 0; i < 20; ++i) {
    auto r = client.call("POST", "/v1/echo", new Poco::JSON::Object);
    ASSERT_TRUE(r.ok()) << r.error().toString();
  }
  // Copies share the kept connection.
  ApiClient copy = client;
  ASSERT_TRUE(copy.call("GET", "/v1/open").ok());
  EXPECT_EQ(server_->totalConnections() - before, 1u);
  // An error answer keeps the connection too.
  ASSERT_FALSE(client.call("GET", "/v1/error").ok());
  ASSERT_TRUE(client.call("GET", "/v1/open").ok());
  EXPECT_EQ(server_->totalConnections() - before, 1u);
}

TEST_F(HttpServerTest, ClientReconnectsWhenTheServerDroppedItsConnection) {
  ApiClient client(base_, &key_, clock_, random_);
  ASSERT_TRUE(client.call("POST", "/v1/echo", new Poco::JSON::Object).ok());
  const std::uint16_t port = server_->port();
  server_->stop();  // closes the kept connection
  server_ = makeServer(port);
  Status s = server_->start();
  ASSERT_TRUE(s.ok()) << s.error().toString();
  JsonObject body = new Poco::JSON::Object;
  body->set("after", "restart");
  auto r = client.call("POST", "/v1/echo", body);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*getString(*r, "body"), toJson(body));
}

TEST_F(HttpServerTest, UnsignedRouteNeedsNoSignature) {
  ApiClient anonymous(base_, nullptr, clock_, random_);
  auto r = anonymous.call("GET", "/v1/open");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*getString(*r, "principal"), "");
  auto created = anonymous.raw("POST", "/v1/open", "abc");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, 201);
}

TEST_F(HttpServerTest, PathAndQueryParameters) {
  auto r = httpRequest("GET", base_ + "/v1/items/abc/parts/7?q=a%20b&z=1", {}, "");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->status, 200) << r->body;
  JsonObject o = jsonBody(*r);
  EXPECT_EQ(*getString(o, "id"), "abc");
  EXPECT_EQ(*getString(o, "part"), "7");
  EXPECT_EQ(*getString(o, "q"), "a b");
}

TEST_F(HttpServerTest, UnsignedCallToSignedRouteIs401) {
  expectError(httpRequest("POST", base_ + "/v1/echo", {}, "{}"), 401, "invalid-signature");
  ApiClient anonymous(base_, nullptr, clock_, random_);
  auto r = anonymous.call("POST", "/v1/echo", new Poco::JSON::Object);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(r.error().reason, "invalid-signature");
}

TEST_F(HttpServerTest, ForgedCallIs401) {
  // Signed over another body.
  HeaderList h = signedHeaders("POST", "/v1/echo", "", "{\"a\":1}", std::string(32, '1'));
  expectError(httpRequest("POST", base_ + "/v1/echo", h, "{\"a\":2}"), 401, "invalid-signature");
  // Signed over another query.
  h = signedHeaders("POST", "/v1/echo", "x=1", "{}", std::string(32, '2'));
  expectError(httpRequest("POST", base_ + "/v1/echo?x=2", h, "{}"), 401, "invalid-signature");
  // Signed by another key under this key's id.
  KeyPair mallory = KeyPair::generate();
  RequestToSign req{"POST", "/v1/echo", "", sha256Hex("{}")};
  const std::string nonce(32, '3');
  const std::string ts = std::to_string(clock_.nowMillis());
  const std::string forged =
      "DCLOUD-ED25519 id=" + key_.id() + ", ts=" + ts + ", nonce=" + nonce +
      ", sig=" + mallory.sign(canonicalRequestString(req, clock_.nowMillis(), nonce));
  expectError(httpRequest("POST", base_ + "/v1/echo", {{"Authorization", forged}}, "{}"), 401,
              "invalid-signature");
  expectError(
      httpRequest("POST", base_ + "/v1/echo", {{"Authorization", "DCLOUD-ED25519 x"}}, "{}"), 401,
      "invalid-signature");
}

TEST_F(HttpServerTest, ReplayIs409RefreshNonce) {
  HeaderList h = signedHeaders("POST", "/v1/echo", "", "{}", std::string(32, 'a'));
  auto first = httpRequest("POST", base_ + "/v1/echo", h, "{}");
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_EQ(first->status, 200) << first->body;
  expectError(httpRequest("POST", base_ + "/v1/echo", h, "{}"), 409, "refresh-nonce");
}

TEST_F(HttpServerTest, ExpiredTimestampIs409RefreshNonce) {
  ManualClock stale(clock_.nowMillis() - kDefaultMaxSkewMillis - 1000);
  ApiClient client(base_, &key_, stale, random_);
  auto r = client.call("POST", "/v1/echo", new Poco::JSON::Object);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "refresh-nonce");
  auto raw = client.raw("POST", "/v1/echo", "{}");
  expectError(raw, 409, "refresh-nonce");
}

TEST_F(HttpServerTest, UnknownRouteIs404) {
  expectError(httpRequest("GET", base_ + "/v1/nothing", {}, ""), 404, "not-found");
  expectError(httpRequest("GET", base_ + "/v1/items/abc", {}, ""), 404, "not-found");
  ApiClient anonymous(base_, nullptr, clock_, random_);
  auto r = anonymous.call("GET", "/v1/error");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no such job");
}

TEST_F(HttpServerTest, WrongMethodOnKnownPathIsAnError) {
  auto r = httpRequest("DELETE", base_ + "/v1/open", {}, "");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_GE(r->status, 400);
  EXPECT_NE(r->status, 404);
}

TEST_F(HttpServerTest, OversizedBodyIs400) {
  const std::string big(4 * kMaxBody, 'x');
  expectError(httpRequest("POST", base_ + "/v1/open", {}, big), 400, "bad-request");
  // Signed routes check the size before anything else.
  HeaderList h = signedHeaders("POST", "/v1/echo", "", big, std::string(32, 'b'));
  expectError(httpRequest("POST", base_ + "/v1/echo", h, big), 400, "bad-request");
  // Exactly at the limit is fine.
  auto ok = httpRequest("POST", base_ + "/v1/open", {}, std::string(kMaxBody, 'x'));
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  EXPECT_EQ(ok->status, 201) << ok->body;
}

TEST_F(HttpServerTest, AContentLengthPocoCannotParseIsAnswered400) {
  // Poco refuses these while it reads the head, before any handler: the listener still answers.
  for (const std::string length : {"abc", "1e3", "99999999999999999999999"}) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server_->port()));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    const std::string request = "POST /v1/open HTTP/1.1\r\nHost: x\r\nContent-Length: " + length +
                                "\r\nConnection: close\r\n\r\nabc";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string reply;
    char buf[4096];
    for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;) reply.append(buf, n);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << length << ": " << reply;
    EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos) << reply;
    EXPECT_NE(reply.find("Content-Length must be a decimal number"), std::string::npos) << reply;
  }
  auto r = httpRequest("GET", base_ + "/v1/open", {}, "");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->status, 200) << "the server keeps serving";
}

// Long polls hold their thread: a server sized for more than Poco's default pool (16 threads)
// must serve that many requests at once.
TEST(ApiServerCapacityTest, ServesAsManyRequestsAtOnceAsItHasThreads) {
  constexpr int kConcurrent = 24;
  std::mutex mutex;
  std::condition_variable cv;
  int waiting = 0;
  Router router;
  router.add(
      "GET", "/v1/gather", Auth::kNone, std::make_shared<FunctionEndpoint>([&](const ApiRequest&) {
        std::unique_lock lock(mutex);
        ++waiting;
        cv.notify_all();
        const bool all =
            cv.wait_for(lock, std::chrono::seconds(10), [&] { return waiting >= kConcurrent; });
        JsonObject o = new Poco::JSON::Object;
        o->set("all", all);
        return ApiResponse::json(o);
      }));
  ApiServerConfig config;
  config.name = "capacity";
  config.max_threads = kConcurrent + 8;
  MetricsRegistry metrics;
  ApiServer server(config, std::move(router), nullptr, metrics, [] { return okStatus(); });
  ASSERT_TRUE(server.start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/gather";
  std::vector<std::future<Result<HttpResult>>> calls;
  for (int i = 0; i < kConcurrent; ++i) {
    calls.push_back(
        std::async(std::launch::async, [&] { return httpRequest("GET", url, {}, ""); }));
  }
  for (auto& c : calls) {
    auto r = c.get();
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_NE(r->body.find("\"all\":true"), std::string::npos) << r->body;
  }
}

TEST_F(HttpServerTest, ThrowingEndpointIs500AndServerKeepsServing) {
  for (int i = 0; i < 3; ++i) {
    expectError(httpRequest("GET", base_ + "/v1/boom", {}, ""), 500, "server-error");
    auto r = httpRequest("GET", base_ + "/v1/open", {}, "");
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ(r->status, 200);
  }
  auto r = httpRequest("GET", base_ + "/v1/boom", {}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.find("kaboom"), std::string::npos) << "internal details leaked: " << r->body;
}

TEST_F(HttpServerTest, Healthz) {
  auto r = httpRequest("GET", base_ + "/healthz", {}, "");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->status, 200) << r->body;
  JsonObject o = jsonBody(*r);
  EXPECT_EQ(*getString(o, "status"), "ok");
  EXPECT_EQ(*getString(o, "service"), "testsvc");
  healthy_ = false;
  expectError(httpRequest("GET", base_ + "/healthz", {}, ""), 503, "unavailable");
}

TEST_F(HttpServerTest, MetricsCountRequests) {
  ASSERT_TRUE(httpRequest("GET", base_ + "/v1/open", {}, "").ok());
  ASSERT_TRUE(httpRequest("GET", base_ + "/v1/nothing", {}, "").ok());
  auto r = httpRequest("GET", base_ + "/metrics", {}, "");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"].rfind("text/plain", 0), 0u) << r->headers["content-type"];
  EXPECT_NE(r->body.find("# TYPE dcloud_http_requests_total counter"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("dcloud_http_requests_total{method=\"GET\",route=\"/v1/open\","
                         "service=\"testsvc\",status=\"200\"} 1\n"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("route=\"unmatched\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("# TYPE dcloud_http_request_seconds histogram"), std::string::npos);
}

TEST_F(HttpServerTest, ClientReportsUnreachableServer) {
  const std::string dead = base_;
  server_->stop();
  auto r = httpRequest("GET", dead + "/healthz", {}, "", 2000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(RouterTest, MatchesPatterns) {
  Router router;
  auto ep = std::make_shared<FunctionEndpoint>([](const ApiRequest&) { return ApiResponse{}; });
  router.add("GET", "/v1/jobs/{id}", Auth::kSigned, ep);
  router.add("POST", "/v1/jobs/{id}/cancel", Auth::kNone, ep);
  Router::Match m = router.match("GET", "/v1/jobs/42");
  EXPECT_EQ(m.endpoint, ep.get());
  EXPECT_EQ(m.auth, Auth::kSigned);
  EXPECT_EQ(m.route, "/v1/jobs/{id}");
  EXPECT_EQ(m.params.at("id"), "42");
  EXPECT_EQ(router.match("POST", "/v1/jobs/42/cancel").params.at("id"), "42");
  Router::Match wrong_method = router.match("DELETE", "/v1/jobs/42");
  EXPECT_EQ(wrong_method.endpoint, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  Router::Match unknown = router.match("GET", "/v1/jobs");
  EXPECT_EQ(unknown.endpoint, nullptr);
  EXPECT_FALSE(unknown.path_known);
  EXPECT_EQ(router.match("GET", "/v1/jobs/42/extra").endpoint, nullptr);
}

TEST(UrlTest, ParsesUrls) {
  auto u = parseUrl("http://127.0.0.1:8080/v1/jobs?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/v1/jobs?x=1");
  auto plain = parseUrl("https://example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 443);
  EXPECT_EQ(plain->path, "/");
  for (const char* bad : {"example.com", "ftp://x/", "http://:80/", "http://h:0/",
                          "http://h:70000/", "http://h:x/"}) {
    EXPECT_FALSE(parseUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace dcloud
