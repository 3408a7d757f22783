// Hostile and broken requests: keys with "..", raw control bytes, wrong Content-Length values,
// bodies cut off mid-stream (plain, aws-chunked, HTTP chunked), oversized request lines and
// header sections. Each must get the S3 error a client expects, store nothing, and leave the
// server serving.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <filesystem>

#include "common/s3_client.h"
#include "storage-gateway/authenticator.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

std::string xmlCode(const HttpReply& r) {
  const std::size_t a = r.body.find("<Code>");
  const std::size_t b = r.body.find("</Code>");
  if (a == std::string::npos || b == std::string::npos) return "";
  return r.body.substr(a + 6, b - a - 6);
}

class BadInputTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    S3Client client(endpoint(), alice_creds_, clock_);
    ASSERT_TRUE(client.createBucket("bad").ok());
  }
  HttpReply put(const std::string& path, const std::string& body,
                std::map<std::string, std::string> extra = {}) {
    return signedRequest(alice_creds_, "PUT", path, body, std::move(extra));
  }
  HttpReply get(const std::string& path) { return signedRequest(alice_creds_, "GET", path, ""); }
  // Like rawExchange, but the server may answer and close before it has read everything sent
  // (an oversized header section): a failed send still leaves the reply to read.
  HttpReply raw(const std::string& bytes, bool shutdown_write = false) {
    HttpReply r;
    try {
      r = parseReply(rawBytes(bytes, shutdown_write));
    } catch (const std::exception&) {
      r.status = -1;  // a reply, but not an HTTP/1.x status line
    }
    return r;
  }
  std::string rawBytes(const std::string& bytes, bool shutdown_write = false) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port()));
    socket.setReceiveTimeout(Poco::Timespan(30, 0));
    try {
      for (std::size_t sent = 0; sent < bytes.size();) {
        sent += static_cast<std::size_t>(
            socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent)));
      }
      if (shutdown_write) socket.shutdownSend();
    } catch (const Poco::Exception&) {
    }
    std::string reply;
    char buf[8192];
    try {
      for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;) {
        reply.append(buf, static_cast<std::size_t>(n));
      }
    } catch (const Poco::Exception&) {
    }
    return reply;
  }
  // Unsigned streaming upload head (aws-chunked framing), for bodies the test cuts short.
  std::string streamingHead(const std::string& path, std::size_t decoded, bool http_chunked,
                            std::size_t content_length) {
    const std::string amz_date = amzDate(clock_.nowMillis());
    std::map<std::string, std::string> headers{
        {"host", "127.0.0.1:" + std::to_string(port())},
        {"x-amz-date", amz_date},
        {"x-amz-content-sha256", kStreamingUnsignedTrailer},
        {"content-encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", std::to_string(decoded)}};
    SigV4Request req;
    req.method = "PUT";
    req.canonical_uri = path;
    req.headers = headers;
    for (const auto& [k, v] : headers) req.signed_headers.push_back(k);
    req.payload_hash = kStreamingUnsignedTrailer;
    std::string out = "PUT " + path + " HTTP/1.1\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    out += "Authorization: " + sigv4Authorization(alice_creds_, req, amz_date) + "\r\n";
    out += http_chunked ? std::string("Transfer-Encoding: chunked\r\n")
                        : "Content-Length: " + std::to_string(content_length) + "\r\n";
    return out + "Connection: close\r\n\r\n";
  }
  void expectStillServing() {
    ASSERT_EQ(put("/bad/alive", "still here").status, 200);
    EXPECT_EQ(get("/bad/alive").body, "still here");
  }
};

TEST_F(BadInputTest, DotSegmentKeysAreKeysNotPaths) {
  // S3 keys are opaque: "..", "." and "/" runs are stored and returned as sent, never resolved
  // against anything on disk.
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"/bad/../escape", "../escape"},
      {"/bad/a/../../../etc/passwd", "a/../../../etc/passwd"},
      {"/bad/..", ".."},
      {"/bad/./.", "./."},
      {"/bad/%2E%2E/%2e%2e%2Fz", "../../z"},
      {"/bad/..%5C..%5Cwin", "..\\..\\win"}};
  for (const auto& [path, key] : keys) {
    HttpReply r = put(path, "data for " + key);
    ASSERT_EQ(r.status, 200) << path << "\n" << r.body;
  }
  for (const auto& [path, key] : keys) EXPECT_EQ(get(path).body, "data for " + key) << path;
  HttpReply list = get("/bad?list-type=2&encoding-type=url");
  for (const auto& [path, key] : keys) {
    EXPECT_NE(list.body.find("<Key>" + uriEncode(key, false) + "</Key>"), std::string::npos)
        << key << "\n"
        << list.body;
  }
  // Only the gateway's own files exist: one per object, all inside the data directory.
  EXPECT_EQ(dataFiles(), keys.size());
  EXPECT_FALSE(std::filesystem::exists(temp_dir_ + "/escape"));
}

TEST_F(BadInputTest, ControlBytesInTheRequestLine) {
  using namespace std::string_literals;
  // Poco takes these as an anonymous GET of an odd path (AccessDenied) or refuses them (400).
  HttpReply nul = raw("GET /bad/a\0b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"s);
  EXPECT_EQ(nul.status / 100, 4);
  // Poco reads "b" as the version and answers with it: "b 403 Forbidden".
  const std::string space =
      rawBytes("GET /bad/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(space.find(" 403 "), std::string::npos) << space;
  expectStillServing();
}

TEST_F(BadInputTest, WrongContentLengths) {
  for (const char* length : {"-5", "+5", " "}) {
    HttpReply r = signedRequest(alice_creds_, "PUT", "/bad/cl", "hello",
                                {{"content-length", length}}, kUnsignedPayload);
    EXPECT_EQ(r.status, 400) << "Content-Length: " << length << "\n" << r.body;
    EXPECT_EQ(xmlCode(r), "InvalidArgument") << "Content-Length: " << length;
  }
  // What Poco's own number parser refuses while reading the head never reaches a handler; the
  // listener answers it (common/http_listener.h) instead of closing the connection mutely.
  for (const std::string length : {"abc", "1e3", "0x5", "99999999999999999999999"}) {
    HttpReply r = raw("PUT /bad/cl HTTP/1.1\r\nHost: x\r\nContent-Length: " + length +
                      "\r\nConnection: close\r\n\r\nhello");
    EXPECT_EQ(r.status, 400) << "Content-Length: " << length << "\n" << r.body;
    EXPECT_EQ(xmlCode(r), "InvalidArgument") << "Content-Length: " << length;
  }
  // Two different lengths: the body's size is ambiguous, so nothing is stored.
  HttpReply twice =
      raw("PUT /bad/twice HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n"
          "Connection: close\r\n\r\nhello12");
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_EQ(xmlCode(twice), "InvalidArgument");
  // Longer than declared: the object is the declared bytes; the rest is the next "request".
  HttpReply longer = signedRequest(alice_creds_, "PUT", "/bad/longer", "hello, and more",
                                   {{"content-length", "5"}}, kUnsignedPayload);
  EXPECT_EQ(longer.status, 200);
  EXPECT_EQ(get("/bad/longer").body, "hello");
  // Shorter than declared (the client half-closes): IncompleteBody.
  HttpReply shorter = signedRequest(alice_creds_, "PUT", "/bad/shorter", std::string(1000, 's'), {},
                                    kUnsignedPayload, 0, 10);
  EXPECT_EQ(xmlCode(shorter), "IncompleteBody");
  EXPECT_EQ(get("/bad/cl").status, 404);
  EXPECT_EQ(get("/bad/twice").status, 404);
  EXPECT_EQ(get("/bad/shorter").status, 404);
  EXPECT_EQ(dataFiles(), 1u);
  expectStillServing();
}

TEST_F(BadInputTest, TruncatedStreamingBodies) {
  const std::string payload = randomBytes(50000, 21);
  std::string framed = "c350\r\n" + payload + "\r\n0\r\n\r\n";
  // aws-chunked over HTTP chunked transfer coding, cut inside the first HTTP chunk.
  std::string http_chunked =
      "1000\r\n" + framed.substr(0, 4096) + "\r\n" + "800\r\n" + framed.substr(4096, 1000);
  HttpReply cut_chunked =
      raw(streamingHead("/bad/cut1", payload.size(), true, 0) + http_chunked, true);
  EXPECT_EQ(cut_chunked.status, 400) << cut_chunked.body;
  EXPECT_EQ(xmlCode(cut_chunked), "IncompleteBody");
  // A broken HTTP chunk header.
  HttpReply bad_chunk =
      raw(streamingHead("/bad/cut2", payload.size(), true, 0) + "zz\r\nabc\r\n0\r\n\r\n", true);
  EXPECT_EQ(bad_chunk.status / 100, 4) << bad_chunk.body;
  // aws-chunked with a Content-Length, cut in the middle of the data.
  HttpReply cut_sized = raw(
      streamingHead("/bad/cut3", payload.size(), false, framed.size()) + framed.substr(0, 20000),
      true);
  EXPECT_EQ(xmlCode(cut_sized), "IncompleteBody");
  // Complete framing but fewer bytes than x-amz-decoded-content-length.
  HttpReply short_decoded =
      raw(streamingHead("/bad/cut4", payload.size() + 1, false, framed.size()) + framed, true);
  EXPECT_EQ(short_decoded.status, 400);
  EXPECT_EQ(dataFiles(), 0u);
  expectStillServing();
}

TEST_F(BadInputTest, OversizedRequestLineAndHeaders) {
  HttpReply long_uri = raw("GET /bad/" + std::string(100000, 'u') +
                           " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(long_uri.status / 100, 4);
  std::string many = "GET /bad HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 1000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  HttpReply many_headers = raw(many + "Connection: close\r\n\r\n");
  EXPECT_EQ(many_headers.status, 400);
  // Poco skips a header line without a colon; the request is then an anonymous one.
  HttpReply no_colon = raw("GET /bad HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", true);
  EXPECT_EQ(no_colon.status / 100, 4);
  // A header section that never ends is cut off, not buffered without limit.
  std::string endless = "GET /bad HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20000; ++i) endless += "X: " + std::string(50, 'e') + "\r\n";
  HttpReply cut = raw(endless, true);
  EXPECT_EQ(cut.status, 400);
  expectStillServing();
}

}  // namespace
}  // namespace dcloud::gateway::testing
