// Presigned URLs (query-string SigV4 with expiry) and conditional requests (If-Match,
// If-None-Match, If-Modified-Since, If-Unmodified-Since on reads, If-None-Match: * and If-Match on
// writes), with hand-made requests and the aws CLI's presign.
#include <atomic>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/s3_client.h"
#include "storage-gateway/s3_xml.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

class RequestRulesTest : public GatewayFixture {
 protected:
  void makeBucket(const std::string& name) {
    S3Client client(endpoint(), alice_creds_, clock_);
    ASSERT_TRUE(client.createBucket(name).ok());
  }
  HttpReply put(const std::string& path, const std::string& body,
                std::map<std::string, std::string> extra = {}) {
    return signedRequest(alice_creds_, "PUT", path, body, std::move(extra));
  }
  HttpReply get(const std::string& path, std::map<std::string, std::string> extra = {},
                const std::string& method = "GET") {
    return signedRequest(alice_creds_, method, path, "", std::move(extra));
  }
  static std::string xmlCode(const HttpReply& r) {
    const std::size_t a = r.body.find("<Code>");
    const std::size_t b = r.body.find("</Code>");
    if (a == std::string::npos || b == std::string::npos) return "";
    return r.body.substr(a + 6, b - a - 6);
  }

  // path?X-Amz-...: a presigned URL for method on path, signed date_offset_ms from now.
  std::string presign(const std::string& method, const std::string& path, int expires_s,
                      std::int64_t date_offset_ms = 0, const SigV4Credentials* creds = nullptr) {
    const SigV4Credentials& c = creds ? *creds : alice_creds_;
    const std::string amz_date = amzDate(clock_.nowMillis() + date_offset_ms);
    const std::string date = amz_date.substr(0, 8);
    const std::string scope = date + "/us-east-1/s3/aws4_request";
    SigV4Request req;
    req.method = method;
    req.canonical_uri = path;
    req.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                 {"X-Amz-Credential", c.access_key + "/" + scope},
                 {"X-Amz-Date", amz_date},
                 {"X-Amz-Expires", std::to_string(expires_s)},
                 {"X-Amz-SignedHeaders", "host"}};
    req.headers = {{"host", "127.0.0.1:" + std::to_string(port())}};
    req.signed_headers = {"host"};
    req.payload_hash = kUnsignedPayload;
    const std::string signature =
        sigv4SignatureHex(sigv4SigningKey(c.secret_key, date, "us-east-1", "s3"),
                          sigv4StringToSign(amz_date, scope, sigv4CanonicalRequest(req)));
    std::string url = path + "?";
    for (const auto& [k, v] : req.query) url += k + "=" + uriEncode(v, true) + "&";
    return url + "X-Amz-Signature=" + signature;
  }
  // An unsigned request (the URL carries the authentication).
  HttpReply plain(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    std::string raw = method + " " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port()) +
                      "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n" + body;
    return parseReply(rawExchange(port(), raw, false));
  }
};

TEST_F(RequestRulesTest, PresignedGetAndPut) {
  makeBucket("pre");
  HttpReply up = plain("PUT", presign("PUT", "/pre/up.txt", 300), "uploaded by url");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.headers["etag"], "\"" + md5Hex("uploaded by url") + "\"");
  HttpReply down = plain("GET", presign("GET", "/pre/up.txt", 300));
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(down.body, "uploaded by url");

  // Expired (signed 10 minutes ago for 5 minutes), not yet valid, tampered, too long, wrong key.
  HttpReply expired = plain("GET", presign("GET", "/pre/up.txt", 300, -10 * 60 * 1000));
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(xmlCode(expired), "AccessDenied");
  EXPECT_NE(expired.body.find("Request has expired"), std::string::npos) << expired.body;
  HttpReply early = plain("GET", presign("GET", "/pre/up.txt", 300, 60 * 60 * 1000));
  EXPECT_EQ(early.status, 403);
  std::string url = presign("GET", "/pre/up.txt", 300);
  HttpReply other_key = plain("GET", "/pre/other.txt" + url.substr(url.find('?')));
  EXPECT_EQ(xmlCode(other_key), "SignatureDoesNotMatch");
  url.back() = url.back() == '0' ? '1' : '0';
  EXPECT_EQ(xmlCode(plain("GET", url)), "SignatureDoesNotMatch");
  HttpReply week = plain("GET", presign("GET", "/pre/up.txt", 604801));
  EXPECT_EQ(xmlCode(week), "AuthorizationQueryParametersError");
  HttpReply bobs = plain("GET", presign("GET", "/pre/up.txt", 300, 0, &bob_creds_));
  EXPECT_EQ(bobs.status, 403);
  HttpReply missing = plain("GET", "/pre/up.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256");
  EXPECT_EQ(xmlCode(missing), "AuthorizationQueryParametersError");
  // A GET URL cannot be used to PUT.
  HttpReply swapped = plain("PUT", presign("GET", "/pre/up.txt", 300), "overwrite");
  EXPECT_EQ(swapped.status, 403);
  EXPECT_EQ(get("/pre/up.txt").body, "uploaded by url");
}

TEST_F(RequestRulesTest, AwsCliPresign) {
  makeBucket("clipre");
  ASSERT_EQ(put("/clipre/dir/a.txt", "presigned by awscli").status, 200);
  CommandResult r =
      aws(alice_creds_, {"s3", "presign", "s3://clipre/dir/a.txt", "--expires-in", "120"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string url = r.out.substr(0, r.out.find_last_not_of("\r\n") + 1);
  const std::size_t path_at = url.find('/', url.find("//") + 2);
  ASSERT_NE(path_at, std::string::npos) << url;
  HttpReply got = plain("GET", url.substr(path_at));
  EXPECT_EQ(got.status, 200) << url << "\n" << got.body;
  EXPECT_EQ(got.body, "presigned by awscli");
}

TEST_F(RequestRulesTest, ConditionalReads) {
  makeBucket("cond");
  ASSERT_EQ(put("/cond/k", "conditional").status, 200);
  const std::string etag = "\"" + md5Hex("conditional") + "\"";
  const std::int64_t now = clock_.nowMillis();
  const std::string past = httpDate(now - 3600 * 1000);
  const std::string future = httpDate(now + 3600 * 1000);
  struct Case {
    std::map<std::string, std::string> headers;
    int status;
  };
  const std::vector<Case> cases = {
      {{{"if-match", etag}}, 200},
      {{{"if-match", "\"0123\", " + etag}}, 200},
      {{{"if-match", "*"}}, 200},
      {{{"if-match", "\"0123\""}}, 412},
      {{{"if-none-match", etag}}, 304},
      {{{"if-none-match", "*"}}, 304},
      {{{"if-none-match", "\"0123\""}}, 200},
      {{{"if-modified-since", past}}, 200},
      {{{"if-modified-since", future}}, 304},
      {{{"if-modified-since", "not a date"}}, 200},
      {{{"if-unmodified-since", future}}, 200},
      {{{"if-unmodified-since", past}}, 412},
      // If-Match decides over If-Unmodified-Since, If-None-Match over If-Modified-Since.
      {{{"if-match", etag}, {"if-unmodified-since", past}}, 200},
      {{{"if-none-match", "\"0123\""}, {"if-modified-since", future}}, 200},
      {{{"if-match", "\"0123\""}, {"if-none-match", etag}}, 412},
      {{{"if-match", etag}, {"if-none-match", etag}}, 304},
  };
  for (const Case& c : cases) {
    std::string label;
    for (const auto& [k, v] : c.headers) label += k + ": " + v + "; ";
    HttpReply r = get("/cond/k", c.headers);
    EXPECT_EQ(r.status, c.status) << label << r.body;
    if (c.status == 200) {
      EXPECT_EQ(r.body, "conditional") << label;
    }
    if (c.status == 304) {
      EXPECT_EQ(r.body, "") << label;
      EXPECT_EQ(r.headers["etag"], etag) << label;
    }
    if (c.status == 412) {
      EXPECT_EQ(xmlCode(r), "PreconditionFailed") << label;
    }
    HttpReply head = get("/cond/k", c.headers, "HEAD");
    EXPECT_EQ(head.status, c.status) << "HEAD " << label;
  }
  // Preconditions on a missing key: the key is missing first.
  EXPECT_EQ(get("/cond/absent", {{"if-match", etag}}).status, 404);
}

TEST_F(RequestRulesTest, ConditionalWrites) {
  makeBucket("cwrite");
  HttpReply first = put("/cwrite/k", "first", {{"if-none-match", "*"}});
  ASSERT_EQ(first.status, 200) << first.body;
  HttpReply second = put("/cwrite/k", "second", {{"if-none-match", "*"}});
  EXPECT_EQ(second.status, 412);
  EXPECT_EQ(xmlCode(second), "PreconditionFailed");
  EXPECT_EQ(get("/cwrite/k").body, "first");
  EXPECT_EQ(xmlCode(put("/cwrite/k", "x", {{"if-none-match", "\"abc\""}})), "NotImplemented");

  const std::string etag = "\"" + md5Hex("first") + "\"";
  EXPECT_EQ(put("/cwrite/k", "third", {{"if-match", "\"0123\""}}).status, 412);
  EXPECT_EQ(put("/cwrite/k", "third", {{"if-match", etag}}).status, 200);
  EXPECT_EQ(get("/cwrite/k").body, "third");
  EXPECT_EQ(put("/cwrite/absent", "x", {{"if-match", etag}}).status, 404);
  EXPECT_EQ(dataFiles(), 1u);

  // Racing creators: exactly one wins, whatever the interleaving.
  constexpr int kWriters = 8;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      HttpReply r = put("/cwrite/race", "writer " + std::to_string(i), {{"if-none-match", "*"}});
      if (r.status == 200) ++created;
      if (r.status == 412) ++refused;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), kWriters - 1);
  EXPECT_EQ(get("/cwrite/race").body.rfind("writer ", 0), 0u);
  EXPECT_EQ(dataFiles(), 2u);
}

TEST_F(RequestRulesTest, RangeEdgeCases) {
  makeBucket("rng");
  ASSERT_EQ(put("/rng/k", "0123456789").status, 200);
  struct Case {
    std::string range;
    int status;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"bytes=0-0", 206, "0"},
      {"bytes=9-", 206, "9"},
      {"bytes=9-9", 206, "9"},
      {"bytes=3-100", 206, "3456789"},
      {"bytes=-100", 206, "0123456789"},
      {"bytes=-1", 206, "9"},
      {"bytes=10-", 416, ""},
      {"bytes=-0", 416, ""},
      {"bytes=5-2", 200, "0123456789"},
      {"bytes=0-1,3-4", 200, "0123456789"},
      {"items=0-1", 200, "0123456789"},
      {"bytes=x-y", 200, "0123456789"},
  };
  for (const Case& c : cases) {
    HttpReply r = get("/rng/k", {{"range", c.range}});
    EXPECT_EQ(r.status, c.status) << c.range;
    if (c.status != 416) {
      EXPECT_EQ(r.body, c.body) << c.range;
    }
    if (c.status == 416) {
      EXPECT_EQ(xmlCode(r), "InvalidRange") << c.range;
      EXPECT_EQ(r.headers["content-range"], "bytes */10") << c.range;
    }
  }
  EXPECT_EQ(get("/rng/k", {{"range", "bytes=2-4"}}).headers["content-range"], "bytes 2-4/10");
}

}  // namespace
}  // namespace dcloud::gateway::testing
