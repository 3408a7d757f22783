// The gateway at the HTTP level: S3Client (SigV4 and DCLOUD-ED25519), hand-made requests for the
// failure cases (truncated bodies, digests, aws-chunked signatures, bad names), the admin API,
// health and metrics.
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "common/http_client.h"
#include "common/s3_client.h"
#include "common/signed_request.h"
#include "storage-gateway/authenticator.h"
#include "storage-gateway/aws_chunked.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

class GatewayHttpTest : public GatewayFixture {
 protected:
  void makeBucket(const std::string& name) {
    S3Client client(endpoint(), alice_creds_, clock_);
    ASSERT_TRUE(client.createBucket(name).ok());
  }
  HttpReply put(const std::string& path, const std::string& body,
                std::map<std::string, std::string> extra = {}) {
    return signedRequest(alice_creds_, "PUT", path, body, std::move(extra));
  }
  HttpReply get(const std::string& path) { return signedRequest(alice_creds_, "GET", path, ""); }
  static std::string xmlCode(const HttpReply& r) {
    const std::size_t a = r.body.find("<Code>");
    const std::size_t b = r.body.find("</Code>");
    if (a == std::string::npos || b == std::string::npos) return "";
    return r.body.substr(a + 6, b - a - 6);
  }
};

TEST_F(GatewayHttpTest, S3ClientWithSigV4AndEd25519) {
  S3Client sigv4(endpoint(), alice_creds_, clock_);
  S3Client ed(endpoint(), *alice_, clock_, random_);
  ASSERT_TRUE(ed.createBucket("scenes").ok());
  ASSERT_TRUE(ed.createBucket("scenes").ok());  // already owned: fine for the client
  ASSERT_TRUE(ed.putObject("scenes", "inputs/shot 1.blend", "scene bytes").ok());
  // The same principal through its access key sees what the ed25519 upload stored.
  Result<std::string> got = sigv4.getObject("scenes", "inputs/shot 1.blend");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "scene bytes");
  ASSERT_TRUE(sigv4.putObject("scenes", "out/frame.png", "png").ok());
  Result<std::string> back = ed.getObject("scenes", "out/frame.png");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "png");
  EXPECT_TRUE(*ed.exists("scenes", "out/frame.png"));
  EXPECT_FALSE(*ed.exists("scenes", "out/none.png"));

  const std::string dir = dcloud::testing::makeTempDir();
  const std::string data = randomBytes(3 * 1024 * 1024, 5);
  { std::ofstream(dir + "/in.bin", std::ios::binary) << data; }
  Result<std::int64_t> sent = ed.putFile("scenes", "big.bin", dir + "/in.bin");
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  Result<std::int64_t> fetched = sigv4.getFile("scenes", "big.bin", dir + "/out.bin");
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(*fetched, static_cast<std::int64_t>(data.size()));

  // Another principal's ed25519 key is denied.
  S3Client bob(endpoint(), *bob_, clock_, random_);
  Result<std::string> denied = bob.getObject("scenes", "out/frame.png");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(GatewayHttpTest, Ed25519BodyMustMatchItsHashAndNoncesAreSingleUse) {
  makeBucket("edb");
  const std::string path = "/edb/obj";
  const std::string host = "127.0.0.1:" + std::to_string(port());
  auto send = [&](const std::string& auth, const std::string& sha, const std::string& body) {
    std::string raw = "PUT " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: " + auth +
                      "\r\nx-amz-content-sha256: " + sha +
                      "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n" + body;
    return parseReply(rawExchange(port(), raw, false));
  };
  const std::string claimed = sha256Hex("the real body");
  const std::string auth1 = signRequest(*alice_, {"PUT", path, "", claimed}, clock_, random_);
  HttpReply bad = send(auth1, claimed, "a forged body");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(xmlCode(bad), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(dataFiles(), 0u);
  const std::string auth2 = signRequest(*alice_, {"PUT", path, "", claimed}, clock_, random_);
  EXPECT_EQ(send(auth2, claimed, "the real body").status, 200);
  HttpReply replay = send(auth2, claimed, "the real body");
  EXPECT_EQ(replay.status, 403);
  // A signature over another hash does not verify.
  const std::string auth3 = signRequest(*alice_, {"PUT", path, "", claimed}, clock_, random_);
  HttpReply forged = send(auth3, sha256Hex("x"), "x");
  EXPECT_EQ(xmlCode(forged), "SignatureDoesNotMatch");
}

TEST_F(GatewayHttpTest, TruncatedBodyStoresNothing) {
  makeBucket("trunc");
  const std::string body = randomBytes(100000, 3);
  HttpReply r =
      signedRequest(alice_creds_, "PUT", "/trunc/partial", body, {}, kUnsignedPayload, 0, 40000);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xmlCode(r), "IncompleteBody");
  EXPECT_EQ(get("/trunc/partial").status, 404);
  EXPECT_EQ(dataFiles(), 0u);
  EXPECT_EQ(put("/trunc/ok", "fine").status, 200);  // the server keeps serving
}

TEST_F(GatewayHttpTest, DigestMismatchesStoreNothing) {
  makeBucket("digest");
  HttpReply sha =
      signedRequest(alice_creds_, "PUT", "/digest/a", "actual body", {}, sha256Hex("claimed body"));
  EXPECT_EQ(sha.status, 400);
  EXPECT_EQ(xmlCode(sha), "XAmzContentSHA256Mismatch");
  HttpReply md5 = put("/digest/b", "body", {{"content-md5", base64Encode(std::string(16, 'x'))}});
  EXPECT_EQ(md5.status, 400);
  EXPECT_EQ(xmlCode(md5), "BadDigest");
  HttpReply bad_md5 = put("/digest/c", "body", {{"content-md5", "nope"}});
  EXPECT_EQ(xmlCode(bad_md5), "InvalidDigest");
  EXPECT_EQ(dataFiles(), 0u);
  Result<std::string> raw = fromHex(md5Hex("body"));
  HttpReply good = put("/digest/d", "body", {{"content-md5", base64Encode(*raw)}});
  EXPECT_EQ(good.status, 200);
  EXPECT_EQ(good.headers["etag"], "\"" + md5Hex("body") + "\"");
}

TEST_F(GatewayHttpTest, StreamingSignedUpload) {
  makeBucket("stream");
  const std::string payload = randomBytes(200000, 4);
  auto upload = [&](const std::string& key, bool tamper) {
    // Sign the headers first, then chain chunk signatures on the header signature.
    const std::string amz_date = amzDate(clock_.nowMillis());
    const std::string date = amz_date.substr(0, 8);
    const std::string scope = date + "/us-east-1/s3/aws4_request";
    const std::string signing_key =
        sigv4SigningKey(alice_creds_.secret_key, date, "us-east-1", "s3");
    std::map<std::string, std::string> headers{
        {"host", "127.0.0.1:" + std::to_string(port())},
        {"x-amz-date", amz_date},
        {"x-amz-content-sha256", kStreamingSignedPayload},
        {"content-encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", std::to_string(payload.size())}};
    SigV4Request req;
    req.method = "PUT";
    req.canonical_uri = "/stream/" + key;
    req.headers = headers;
    for (const auto& [k, v] : headers) req.signed_headers.push_back(k);
    req.payload_hash = kStreamingSignedPayload;
    const std::string auth = sigv4Authorization(alice_creds_, req, amz_date);
    const std::string seed = auth.substr(auth.find("Signature=") + 10);
    ChunkSigning signing{signing_key, amz_date, scope, seed};
    std::string body;
    std::string prev = seed;
    for (std::size_t pos = 0;; pos += 65536) {
      std::string data = payload.substr(std::min(pos, payload.size()), 65536);
      const std::string sig = chunkSignature(signing, prev, sha256Hex(data));
      if (tamper && pos == 65536) data[0] = static_cast<char>(data[0] ^ 1);
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx", data.size());
      body += std::string(hex) + ";chunk-signature=" + sig + "\r\n" + data + "\r\n";
      prev = sig;
      if (data.empty()) break;
    }
    std::string raw = "PUT /stream/" + key + " HTTP/1.1\r\n";
    for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    raw += "Authorization: " + auth + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
    return parseReply(rawExchange(port(), raw, false));
  };
  HttpReply bad = upload("tampered", true);
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(xmlCode(bad), "SignatureDoesNotMatch");
  EXPECT_EQ(dataFiles(), 0u);
  HttpReply good = upload("good", false);
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.headers["etag"], "\"" + md5Hex(payload) + "\"");
  HttpReply back = get("/stream/good");
  EXPECT_EQ(back.body == payload, true);
  EXPECT_EQ(back.headers["content-length"], std::to_string(payload.size()));
}

TEST_F(GatewayHttpTest, ErrorDocumentsAndNameRules) {
  HttpReply no_bucket = get("/missing-bucket/key");
  EXPECT_EQ(no_bucket.status, 404);
  EXPECT_EQ(xmlCode(no_bucket), "NoSuchBucket");
  EXPECT_NE(no_bucket.body.find("<Resource>/missing-bucket/key</Resource>"), std::string::npos);
  EXPECT_NE(
      no_bucket.body.find("<RequestId>" + no_bucket.headers["x-amz-request-id"] + "</RequestId>"),
      std::string::npos);
  EXPECT_NE(no_bucket.body.find("<Message>"), std::string::npos);

  makeBucket("names");
  HttpReply no_key = get("/names/absent");
  EXPECT_EQ(no_key.status, 404);
  EXPECT_EQ(xmlCode(no_key), "NoSuchKey");
  HttpReply head = signedRequest(alice_creds_, "HEAD", "/names/absent", "");
  EXPECT_EQ(head.status, 404);
  EXPECT_TRUE(head.body.empty());

  HttpReply bad_name = signedRequest(alice_creds_, "PUT", "/Bad_Name", "");
  EXPECT_EQ(bad_name.status, 400);
  EXPECT_EQ(xmlCode(bad_name), "InvalidBucketName");
  HttpReply long_key = put("/names/" + std::string(1025, 'k'), "x");
  EXPECT_EQ(long_key.status, 400);
  EXPECT_EQ(xmlCode(long_key), "KeyTooLongError");
  HttpReply nul_key = put("/names/a%00b", "x");
  EXPECT_EQ(nul_key.status, 400);
  EXPECT_EQ(xmlCode(nul_key), "InvalidArgument");
  HttpReply mine = signedRequest(alice_creds_, "PUT", "/names", "");
  EXPECT_EQ(xmlCode(mine), "BucketAlreadyOwnedByYou");
  HttpReply theirs = signedRequest(bob_creds_, "PUT", "/names", "");
  EXPECT_EQ(xmlCode(theirs), "BucketAlreadyExists");
  HttpReply skewed = signedRequest(alice_creds_, "GET", "/names", "", {}, "", -20 * 60 * 1000);
  EXPECT_EQ(skewed.status, 403);
  EXPECT_EQ(xmlCode(skewed), "RequestTimeTooSkewed");
  HttpReply anonymous = parseReply(
      rawExchange(port(), "GET /names HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false));
  EXPECT_EQ(anonymous.status, 403);
  HttpReply too_big =
      signedRequest(alice_creds_, "PUT", "/names/huge", "",
                    {{"content-length", std::to_string(6LL << 30)}}, kUnsignedPayload);
  EXPECT_EQ(xmlCode(too_big), "EntityTooLarge");
  EXPECT_EQ(dataFiles(), 0u);
}

TEST_F(GatewayHttpTest, RangeRequests) {
  makeBucket("ranges");
  ASSERT_EQ(put("/ranges/r", "0123456789").status, 200);
  HttpReply part = signedRequest(alice_creds_, "GET", "/ranges/r", "", {{"range", "bytes=2-4"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "234");
  EXPECT_EQ(part.headers["content-range"], "bytes 2-4/10");
  HttpReply suffix = signedRequest(alice_creds_, "GET", "/ranges/r", "", {{"range", "bytes=-3"}});
  EXPECT_EQ(suffix.body, "789");
  HttpReply beyond = signedRequest(alice_creds_, "GET", "/ranges/r", "", {{"range", "bytes=20-"}});
  EXPECT_EQ(beyond.status, 416);
}

TEST_F(GatewayHttpTest, MalformedRequestsDoNotStopTheServer) {
  makeBucket("robust");
  const std::string garbage = parseReply(rawExchange(port(), "GARBAGE\r\n\r\n", true)).body;
  (void)garbage;
  HttpReply huge_header = parseReply(
      rawExchange(port(),
                  "GET /robust HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                      "\r\nConnection: close\r\n\r\n",
                  false));
  EXPECT_EQ(huge_header.status, 400);
  HttpReply bad_auth = parseReply(
      rawExchange(port(),
                  "GET /robust HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 garbage\r\n"
                  "Connection: close\r\n\r\n",
                  false));
  EXPECT_EQ(bad_auth.status, 400);
  EXPECT_EQ(xmlCode(bad_auth), "AuthorizationHeaderMalformed");
  HttpReply bad_escape = get("/robust/%zz");
  EXPECT_EQ(bad_escape.status, 400);
  HttpReply policy = signedRequest(alice_creds_, "PUT", "/robust/k?policy", "");
  EXPECT_EQ(policy.status, 501);
  // ?acl is implemented: an empty body is no ACL, and never a write of the object.
  HttpReply acl = signedRequest(alice_creds_, "PUT", "/robust/k?acl", "");
  EXPECT_EQ(acl.status, 400);
  EXPECT_EQ(put("/robust/after", "still here").status, 200);
  EXPECT_EQ(get("/robust/after").body, "still here");
}

TEST_F(GatewayHttpTest, AdminApi) {
  ApiClient admin(endpoint(), &*admin_, clock_, random_);
  auto bucketBody = [](const std::string& owner, const std::string& name) {
    JsonObject b = new Poco::JSON::Object;
    b->set("owner", owner);
    b->set("bucket", name);
    return b;
  };
  Result<JsonObject> created =
      admin.call("POST", "/_dcloud/v1/buckets", bucketBody(alice_->id(), "job-out"));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE((*created)->getValue<bool>("created"));
  Result<JsonObject> again =
      admin.call("POST", "/_dcloud/v1/buckets", bucketBody(alice_->id(), "job-out"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)->getValue<bool>("created"));
  Result<JsonObject> taken =
      admin.call("POST", "/_dcloud/v1/buckets", bucketBody(bob_->id(), "job-out"));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kPermissionDenied);
  Result<JsonObject> bad =
      admin.call("POST", "/_dcloud/v1/buckets", bucketBody(alice_->id(), "Bad_Name"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  // Not an admin.
  ApiClient stranger(endpoint(), &*bob_, clock_, random_);
  Result<JsonObject> refused =
      stranger.call("POST", "/_dcloud/v1/buckets", bucketBody(bob_->id(), "bobs"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);

  // Credentials only for the bucket's owner.
  JsonObject cred = new Poco::JSON::Object;
  cred->set("principal", bob_->id());
  cred->set("bucket", std::string("job-out"));
  cred->set("grants", JsonArray(new Poco::JSON::Array));
  cred->set("ttl_seconds", 60);
  Result<JsonObject> wrong_owner = admin.call("POST", "/_dcloud/v1/credentials", cred);
  ASSERT_FALSE(wrong_owner.ok());
  EXPECT_EQ(wrong_owner.error().code, ErrorCode::kPermissionDenied);
  cred->set("principal", alice_->id());
  Result<JsonObject> issued = admin.call("POST", "/_dcloud/v1/credentials", cred);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ((*issued)->getValue<std::string>("access_key").size(), 20u);

  // Unsigned admin calls are refused.
  Result<HttpResult> unsigned_call =
      httpRequest("POST", endpoint() + "/_dcloud/v1/buckets", {}, "{}");
  ASSERT_TRUE(unsigned_call.ok());
  EXPECT_EQ(unsigned_call->status, 401);
}

TEST_F(GatewayHttpTest, ConcurrentOverwritesKeepExactlyOneVersion) {
  makeBucket("race");
  std::vector<std::thread> writers;
  std::vector<std::string> bodies;
  for (int i = 0; i < 8; ++i)
    bodies.push_back("version " + std::to_string(i) + randomBytes(5000, i));
  std::atomic<int> stored{0};
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] {
      S3Client client(endpoint(), alice_creds_, clock_);
      if (client.putObject("race", "same-key", bodies[i]).ok()) ++stored;
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(stored.load(), 8);
  EXPECT_EQ(dataFiles(), 1u);  // every replaced version's file was removed
  Result<std::string> final_body =
      S3Client(endpoint(), alice_creds_, clock_).getObject("race", "same-key");
  ASSERT_TRUE(final_body.ok());
  EXPECT_NE(std::find(bodies.begin(), bodies.end(), *final_body), bodies.end());
}

TEST_F(GatewayHttpTest, ExpiredAndRevokedKeysAreRefused) {
  makeBucket("keys");
  AccessKeyRow expired;
  expired.access_key = "DCEXPIREDKEY00000000";
  expired.sealed_secret = master_->seal("expired-secret", random_);
  expired.principal = alice_->id();
  expired.created_ms = clock_.nowMillis() - 10000;
  expired.expires_at_ms = clock_.nowMillis() - 1000;
  ASSERT_TRUE(metadata_->insertAccessKey(expired).ok());
  HttpReply r = signedRequest({expired.access_key, "expired-secret"}, "GET", "/keys", "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(xmlCode(r), "InvalidAccessKeyId");

  EXPECT_EQ(get("/keys").status, 200);
  ASSERT_TRUE(metadata_->revokeAccessKey(alice_creds_.access_key).ok());
  HttpReply revoked = get("/keys");
  EXPECT_EQ(revoked.status, 403);
  EXPECT_EQ(xmlCode(revoked), "InvalidAccessKeyId");
}

TEST_F(GatewayHttpTest, HealthAndMetrics) {
  makeBucket("metrics");  // a bucket named like the endpoint stays reachable through S3
  ASSERT_EQ(put("/metrics/obj", "12345").status, 200);
  EXPECT_EQ(get("/metrics/obj").body, "12345");
  Result<HttpResult> health = httpRequest("GET", endpoint() + "/healthz", {}, "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  Result<HttpResult> metrics = httpRequest("GET", endpoint() + "/metrics", {}, "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(
      metrics->body.find("dcloud_gateway_requests_total{operation=\"PutObject\",status=\"200\"} 1"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("dcloud_gateway_bytes_in_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("dcloud_gateway_bytes_out_total"), std::string::npos);
}

}  // namespace
}  // namespace dcloud::gateway::testing
