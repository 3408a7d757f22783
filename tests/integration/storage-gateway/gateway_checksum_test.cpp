// Additional checksums (x-amz-checksum-* headers and aws-chunked trailers) and the streaming
// trailer payload modes over Transfer-Encoding: chunked, sent by a small client of our own.
#include <cstdio>

#include "common/crypto.h"
#include "common/s3_client.h"
#include "storage-gateway/authenticator.h"
#include "storage-gateway/aws_chunked.h"
#include "storage-gateway/checksums.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

constexpr ChecksumAlgorithm kAll[] = {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                                      ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1,
                                      ChecksumAlgorithm::kSha256};

std::string hexSize(std::size_t n) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%zx", n);
  return hex;
}

// HTTP/1.1 chunked transfer coding of body, in pieces of piece bytes.
std::string httpChunked(const std::string& body, std::size_t piece) {
  std::string out;
  for (std::size_t pos = 0; pos < body.size(); pos += piece) {
    const std::string data = body.substr(pos, piece);
    out += hexSize(data.size()) + "\r\n" + data + "\r\n";
  }
  return out + "0\r\n\r\n";
}

struct StreamingUpload {
  std::string payload;
  bool sign = false;             // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  std::string declared_trailer;  // x-amz-trailer, empty for none
  std::string trailer_line;      // "x-amz-checksum-crc32:..." or empty
  bool tamper_trailer_signature = false;
  bool with_content_length = false;  // Content-Length instead of Transfer-Encoding: chunked
  std::map<std::string, std::string> extra;
};

class ChecksumTest : public GatewayFixture {
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

  // Sends an aws-chunked upload in one of the trailer modes, as current AWS SDKs do.
  HttpReply streamingPut(const std::string& path, const StreamingUpload& u) {
    const std::string amz_date = amzDate(clock_.nowMillis());
    const std::string date = amz_date.substr(0, 8);
    const std::string scope = date + "/us-east-1/s3/aws4_request";
    const std::string mode = u.sign ? kStreamingSignedTrailer : kStreamingUnsignedTrailer;
    std::map<std::string, std::string> headers;
    headers["host"] = "127.0.0.1:" + std::to_string(port());
    headers["x-amz-date"] = amz_date;
    headers["x-amz-content-sha256"] = mode;
    headers["content-encoding"] = "aws-chunked";
    headers["x-amz-decoded-content-length"] = std::to_string(u.payload.size());
    if (!u.declared_trailer.empty()) headers["x-amz-trailer"] = u.declared_trailer;
    for (const auto& [k, v] : u.extra) headers[k] = v;
    SigV4Request req;
    req.method = "PUT";
    req.canonical_uri = path;
    req.headers = headers;
    for (const auto& [k, v] : headers) req.signed_headers.push_back(k);
    req.payload_hash = mode;
    const std::string auth = sigv4Authorization(alice_creds_, req, amz_date);
    const std::string seed = auth.substr(auth.find("Signature=") + 10);
    ChunkSigning signing{sigv4SigningKey(alice_creds_.secret_key, date, "us-east-1", "s3"),
                         amz_date, scope, seed};
    std::string body;
    std::string prev = seed;
    for (std::size_t pos = 0;; pos += 8192) {
      const std::string data = u.payload.substr(std::min(pos, u.payload.size()), 8192);
      body += hexSize(data.size());
      if (u.sign) {
        prev = chunkSignature(signing, prev, sha256Hex(data));
        body += ";chunk-signature=" + prev;
      }
      body += "\r\n";
      if (data.empty()) break;
      body += data + "\r\n";
    }
    if (!u.trailer_line.empty()) body += u.trailer_line + "\r\n";
    if (u.sign && !u.trailer_line.empty()) {
      std::string sig = trailerSignature(signing, prev, u.trailer_line + "\n");
      if (u.tamper_trailer_signature) sig[5] = sig[5] == '0' ? '1' : '0';
      body += "x-amz-trailer-signature:" + sig + "\r\n";
    }
    body += "\r\n";
    std::string raw = "PUT " + path + " HTTP/1.1\r\n";
    for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    raw += "Authorization: " + auth + "\r\nConnection: close\r\n";
    if (u.with_content_length) {
      raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    } else {
      raw += "Transfer-Encoding: chunked\r\n\r\n" + httpChunked(body, 5000);
    }
    return parseReply(rawExchange(port(), raw, false));
  }
};

TEST_F(ChecksumTest, HeaderChecksumsAreVerifiedStoredAndReturned) {
  makeBucket("sums");
  const std::string body = randomBytes(70000, 11);
  for (ChecksumAlgorithm a : kAll) {
    const std::string header = checksumHeader(a);
    const std::string value = checksumBase64(a, body);
    const std::string path = "/sums/" + checksumName(a);
    HttpReply ok = put(path, body, {{header, value}});
    ASSERT_EQ(ok.status, 200) << header << " " << ok.body;
    EXPECT_EQ(ok.headers[header], value);
    HttpReply plain = get(path);
    EXPECT_EQ(plain.body == body, true);
    EXPECT_EQ(plain.headers.count(header), 0u);
    HttpReply enabled = get(path, {{"x-amz-checksum-mode", "ENABLED"}});
    EXPECT_EQ(enabled.headers[header], value) << header;
    EXPECT_EQ(enabled.headers["x-amz-checksum-type"], "FULL_OBJECT");
    HttpReply head = get(path, {{"x-amz-checksum-mode", "ENABLED"}}, "HEAD");
    EXPECT_EQ(head.headers[header], value);
    // A range is not the whole object: no checksum for it.
    HttpReply range = get(path, {{"x-amz-checksum-mode", "ENABLED"}, {"range", "bytes=0-9"}});
    EXPECT_EQ(range.status, 206);
    EXPECT_EQ(range.headers.count(header), 0u);

    // A wrong value (of the right size) stores nothing and keeps the old object.
    const std::string wrong = checksumBase64(a, body + "x");
    HttpReply bad = put(path, body + "y", {{header, wrong}});
    EXPECT_EQ(bad.status, 400) << header;
    EXPECT_EQ(xmlCode(bad), "BadDigest") << bad.body;
    EXPECT_EQ(get(path).body == body, true);
    HttpReply bad_new = put(path + "-new", body, {{header, wrong}});
    EXPECT_EQ(xmlCode(bad_new), "BadDigest");
    EXPECT_EQ(get(path + "-new").status, 404);
    // A value that is not base64 of the digest's size.
    HttpReply malformed = put(path + "-new", body, {{header, "AAAA"}});
    EXPECT_EQ(malformed.status, 400);
    EXPECT_EQ(xmlCode(malformed), "InvalidRequest") << malformed.body;
  }
  EXPECT_EQ(dataFiles(), 5u);
}

TEST_F(ChecksumTest, ChecksumHeaderRules) {
  makeBucket("rules");
  HttpReply two = put("/rules/a", "abc",
                      {{"x-amz-checksum-crc32", checksumBase64(ChecksumAlgorithm::kCrc32, "abc")},
                       {"x-amz-checksum-sha1", checksumBase64(ChecksumAlgorithm::kSha1, "abc")}});
  EXPECT_EQ(xmlCode(two), "InvalidRequest");
  HttpReply sdk_only = put("/rules/a", "abc", {{"x-amz-sdk-checksum-algorithm", "CRC32"}});
  EXPECT_EQ(xmlCode(sdk_only), "InvalidRequest");
  HttpReply sdk_other =
      put("/rules/a", "abc",
          {{"x-amz-sdk-checksum-algorithm", "SHA1"},
           {"x-amz-checksum-crc32", checksumBase64(ChecksumAlgorithm::kCrc32, "abc")}});
  EXPECT_EQ(xmlCode(sdk_other), "InvalidRequest");
  HttpReply trailer_without_streaming =
      put("/rules/a", "abc", {{"x-amz-trailer", "x-amz-checksum-crc32"}});
  EXPECT_EQ(xmlCode(trailer_without_streaming), "InvalidRequest");
  // Content-MD5 and a CRC together: both are checked.
  Result<std::string> md5 = fromHex(md5Hex("abc"));
  HttpReply both =
      put("/rules/b", "abc",
          {{"content-md5", base64Encode(*md5)},
           {"x-amz-sdk-checksum-algorithm", "crc32c"},
           {"x-amz-checksum-crc32c", checksumBase64(ChecksumAlgorithm::kCrc32c, "abc")}});
  EXPECT_EQ(both.status, 200) << both.body;
  HttpReply md5_wrong =
      put("/rules/c", "abc",
          {{"content-md5", base64Encode(*md5)},
           {"x-amz-checksum-crc32c", checksumBase64(ChecksumAlgorithm::kCrc32c, "abd")}});
  EXPECT_EQ(xmlCode(md5_wrong), "BadDigest");
  EXPECT_EQ(dataFiles(), 1u);
}

TEST_F(ChecksumTest, UnsignedTrailerOverChunkedTransferEncoding) {
  makeBucket("trail");
  const std::string payload = randomBytes(100000, 12);
  for (ChecksumAlgorithm a : kAll) {
    const std::string header = checksumHeader(a);
    const std::string value = checksumBase64(a, payload);
    StreamingUpload u{payload, false, header, header + ":" + value, false, false, {}};
    const std::string path = "/trail/" + checksumName(a);
    HttpReply ok = streamingPut(path, u);
    ASSERT_EQ(ok.status, 200) << header << ok.body;
    EXPECT_EQ(ok.headers["etag"], "\"" + md5Hex(payload) + "\"");
    HttpReply back = get(path, {{"x-amz-checksum-mode", "ENABLED"}});
    EXPECT_EQ(back.body == payload, true);
    EXPECT_EQ(back.headers[header], value);

    u.trailer_line = header + ":" + checksumBase64(a, "other");
    HttpReply bad = streamingPut(path + "-bad", u);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(xmlCode(bad), "BadDigest") << bad.body;
    EXPECT_EQ(get(path + "-bad").status, 404);
  }
  // The same framing with a Content-Length instead of chunked transfer coding.
  const std::string value = checksumBase64(ChecksumAlgorithm::kCrc32, payload);
  StreamingUpload sized{
      payload, false, "x-amz-checksum-crc32", "x-amz-checksum-crc32:" + value, false, true, {}};
  EXPECT_EQ(streamingPut("/trail/sized", sized).status, 200);
  // A declared trailer that never comes, and a body shorter than its decoded length.
  StreamingUpload missing{payload, false, "x-amz-checksum-crc32", "", false, false, {}};
  HttpReply no_trailer = streamingPut("/trail/missing", missing);
  EXPECT_EQ(xmlCode(no_trailer), "InvalidRequest") << no_trailer.body;
  StreamingUpload short_body{
      payload, false, "", "", false, false, {{"x-amz-decoded-content-length", "100001"}}};
  HttpReply incomplete = streamingPut("/trail/short", short_body);
  EXPECT_EQ(incomplete.status, 400);
  // Without a trailer at all the body is still accepted.
  StreamingUpload plain{payload, false, "", "", false, false, {}};
  EXPECT_EQ(streamingPut("/trail/plain", plain).status, 200);
  EXPECT_EQ(dataFiles(), 7u);
}

TEST_F(ChecksumTest, SignedTrailer) {
  makeBucket("strail");
  const std::string payload = randomBytes(30000, 13);
  const std::string line =
      "x-amz-checksum-crc64nvme:" + checksumBase64(ChecksumAlgorithm::kCrc64Nvme, payload);
  StreamingUpload u{payload, true, "x-amz-checksum-crc64nvme", line, false, false, {}};
  HttpReply ok = streamingPut("/strail/good", u);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(get("/strail/good").body == payload, true);
  u.tamper_trailer_signature = true;
  HttpReply bad = streamingPut("/strail/bad", u);
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(xmlCode(bad), "SignatureDoesNotMatch");
  EXPECT_EQ(dataFiles(), 1u);
}

}  // namespace
}  // namespace dcloud::gateway::testing
