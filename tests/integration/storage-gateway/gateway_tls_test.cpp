// Virtual-host-style addressing and HTTPS: raw SigV4 requests with explicit Host headers, boto3
// in both addressing styles (names under example.test resolve inside the client process, so no
// DNS or /etc/hosts is needed), and the aws CLI and boto3 over HTTPS with a self-signed
// certificate made by openssl in the test, uploads (single, multipart, sync, aws-chunked with
// trailers over Transfer-Encoding: chunked) and downloads compared byte for byte.
#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/crypto.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDomain = "s3.example.test";

std::string readAll(const std::string& path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string xmlCode(const HttpReply& r) {
  const std::size_t a = r.body.find("<Code>");
  const std::size_t b = r.body.find("</Code>");
  if (a == std::string::npos || b == std::string::npos) return "";
  return r.body.substr(a + 6, b - a - 6);
}

// Every regular file under root, by relative path, with its bytes.
std::map<std::string, std::string> treeOf(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = readAll(e.path());
  }
  return out;
}

std::map<std::string, std::string> sdkEnv(const SigV4Credentials& creds) {
  return {{"AWS_ACCESS_KEY_ID", creds.access_key},
          {"AWS_SECRET_ACCESS_KEY", creds.secret_key},
          {"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

class VirtualHostTest : public GatewayFixture {
 protected:
  void configureGateway(GatewayConfig& config) override { config.domains = {kDomain, "alt.test"}; }
  std::string host(const std::string& bucket) const {
    return bucket + "." + kDomain + ":" + std::to_string(port());
  }
  HttpReply vput(const std::string& bucket, const std::string& path, const std::string& body) {
    return signedRequest(alice_creds_, "PUT", path, body, {{"host", host(bucket)}});
  }
  HttpReply vget(const std::string& bucket, const std::string& path) {
    return signedRequest(alice_creds_, "GET", path, "", {{"host", host(bucket)}});
  }
  // A GET signed for bucket "vhost"'s host but sent with Host "other.<domain>".
  std::string signedRaw(const std::string& path) {
    const std::string amz_date = amzDate(clock_.nowMillis());
    SigV4Request req;
    req.method = "GET";
    req.canonical_uri = path;
    req.headers = {
        {"host", host("vhost")}, {"x-amz-date", amz_date}, {"x-amz-content-sha256", sha256Hex("")}};
    req.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    req.payload_hash = sha256Hex("");
    return "GET " + path + " HTTP/1.1\r\nHost: " + host("other") + "\r\nx-amz-date: " + amz_date +
           "\r\nx-amz-content-sha256: " + sha256Hex("") +
           "\r\nAuthorization: " + sigv4Authorization(alice_creds_, req, amz_date) +
           "\r\nConnection: close\r\n\r\n";
  }
};

TEST_F(VirtualHostTest, SignedRequestsInBothStyles) {
  ASSERT_EQ(vput("vhost", "/", "").status, 200);  // CreateBucket on the bucket's own host
  ASSERT_EQ(vput("vhost", "/dir/a%20b.txt", "virtual").status, 200);
  // Path style on IP hosts, the bare domain and unknown names sees the same object.
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/vhost/dir/a%20b.txt", "").body, "virtual");
  for (const std::string& h :
       {std::string(kDomain), std::string("127.0.0.1"), std::string("gateway.internal:80")}) {
    HttpReply r = signedRequest(alice_creds_, "GET", "/vhost/dir/a%20b.txt", "", {{"host", h}});
    EXPECT_EQ(r.body, "virtual") << h;
  }
  EXPECT_EQ(vget("vhost", "/dir/a%20b.txt").body, "virtual");
  // Upper case and a second domain address the same bucket.
  HttpReply upper = signedRequest(alice_creds_, "GET", "/dir/a%20b.txt", "",
                                  {{"host", "VHOST.ALT.TEST:" + std::to_string(port())}});
  EXPECT_EQ(upper.body, "virtual");
  HttpReply list = vget("vhost", "/?list-type=2&prefix=dir%2F");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("<Key>dir/a b.txt</Key>"), std::string::npos) << list.body;
  // On a bucket host, paths the gateway serves itself are keys.
  ASSERT_EQ(vput("vhost", "/_dcloud/v1/buckets", "a key").status, 200);
  EXPECT_EQ(vget("vhost", "/_dcloud/v1/buckets").body, "a key");
  ASSERT_EQ(vput("vhost", "/healthz", "also a key").status, 200);
  EXPECT_EQ(vget("vhost", "/healthz").body, "also a key");
  // The Host header is signed: the same request sent to another bucket's host is refused.
  HttpReply moved = parseReply(rawExchange(port(), signedRaw("/dir/a%20b.txt"), false));
  EXPECT_EQ(moved.status, 403);
  EXPECT_EQ(xmlCode(moved), "SignatureDoesNotMatch");
  // Virtual-host names still go through the bucket name rules.
  HttpReply bad =
      signedRequest(alice_creds_, "PUT", "/", "", {{"host", "bad_name." + std::string(kDomain)}});
  EXPECT_EQ(xmlCode(bad), "InvalidBucketName");
  HttpReply missing = vget("nobucket", "/k");
  EXPECT_EQ(xmlCode(missing), "NoSuchBucket");
}

TEST_F(VirtualHostTest, Boto3VirtualAndPathStyle) {
  for (const std::string& style : {std::string("virtual"), std::string("path")}) {
    const std::string work = dcloud::testing::makeTempDir();
    // The endpoint names the domain; boto3 puts the bucket in front of it in virtual style.
    const std::string endpoint = "http://" + std::string(kDomain) + ":" + std::to_string(port());
    CommandResult r = runCommand(
        {"/usr/bin/python3", std::string(DCLOUD_GATEWAY_TEST_DIR) + "/boto3_style_client.py",
         endpoint, style + "-style", style, "-", work},
        sdkEnv(alice_creds_));
    EXPECT_EQ(r.rc, 0) << style << "\n" << r.out << "\n" << r.err;
    EXPECT_NE(r.out.find("ALL OK"), std::string::npos) << r.out << "\n" << r.err;
  }
}

class TlsTest : public GatewayFixture {
 protected:
  void configureGateway(GatewayConfig& config) override {
    cert_ = temp_dir_ + "/cert.pem";
    key_ = temp_dir_ + "/key.pem";
    CommandResult r = runCommand(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_, "-out", cert_, "-days", "2",
         "-subj", "/CN=" + std::string(kDomain), "-addext",
         "subjectAltName=DNS:" + std::string(kDomain) + ",DNS:*." + kDomain + ",IP:127.0.0.1"});
    ASSERT_EQ(r.rc, 0) << r.err;
    config.domains = {kDomain};
    config.tls_cert_file = cert_;
    config.tls_key_file = key_;
    config.tls_and_plain = tls_and_plain_;
  }

  // /usr/bin/aws against the HTTPS endpoint, trusting the test certificate; requires success.
  std::string awsTls(const std::vector<std::string>& args) {
    const std::string dir = dcloud::testing::makeTempDir();
    std::ofstream(dir + "/config") << "[default]\nregion = us-east-1\n";
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", httpsEndpoint(),
                                     "--ca-bundle", cert_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> env = sdkEnv(alice_creds_);
    env["AWS_CONFIG_FILE"] = dir + "/config";
    env["AWS_PAGER"] = "";
    env["HOME"] = dir;
    CommandResult r = runCommand(argv, env);
    EXPECT_EQ(r.rc, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n" << r.err;
    return r.out;
  }
  std::string httpsEndpoint() const {
    return "https://127.0.0.1:" + std::to_string(server_->tlsPort());
  }

  bool tls_and_plain_ = false;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsTest, AwsCliCopyAndSyncOverHttps) {
  ASSERT_EQ(server_->tlsPort(), port());
  const std::string dir = dcloud::testing::makeTempDir();
  awsTls({"s3", "mb", "s3://tls"});
  // 20 MiB: above awscli's 8 MB threshold, so a multipart upload and a ranged download.
  const std::string big = randomBytes(20 << 20, 7);
  writeFile(dir + "/big.bin", big);
  awsTls({"s3", "cp", dir + "/big.bin", "s3://tls/big.bin"});
  awsTls({"s3", "cp", "s3://tls/big.bin", dir + "/big.back"});
  EXPECT_TRUE(readAll(dir + "/big.back") == big) << "20 MiB download differs";
  EXPECT_EQ(awsTls({"s3api", "head-object", "--bucket", "tls", "--key", "big.bin"})
                    .find("\"ContentLength\": 20971520") != std::string::npos,
            true);

  const std::string up = dir + "/tree";
  writeFile(up + "/a.txt", "alpha");
  writeFile(up + "/empty", "");
  writeFile(up + "/d1/d2/deep.bin", randomBytes(100000, 8));
  writeFile(up + "/d1/sp ace é.txt", "unicode");
  writeFile(up + "/d3/nine.bin", randomBytes(9 << 20, 9));
  awsTls({"s3", "sync", up, "s3://tls/tree"});
  awsTls({"s3", "sync", "s3://tls/tree", dir + "/down"});
  EXPECT_TRUE(treeOf(up) == treeOf(dir + "/down")) << "synced tree differs";
  // A second sync has nothing to do.
  EXPECT_EQ(awsTls({"s3", "sync", up, "s3://tls/tree"}), "");
}

TEST_F(TlsTest, Boto3OverHttpsBothStyles) {
  for (const std::string& style : {std::string("virtual"), std::string("path")}) {
    const std::string work = dcloud::testing::makeTempDir();
    const std::string endpoint = "https://" + std::string(kDomain) + ":" + std::to_string(port());
    CommandResult r = runCommand(
        {"/usr/bin/python3", std::string(DCLOUD_GATEWAY_TEST_DIR) + "/boto3_style_client.py",
         endpoint, "tls-" + style, style, cert_, work},
        sdkEnv(alice_creds_));
    EXPECT_EQ(r.rc, 0) << style << "\n" << r.out << "\n" << r.err;
    EXPECT_NE(r.out.find("ALL OK"), std::string::npos) << r.out << "\n" << r.err;
  }
}

// Sends bytes that are not a TLS handshake and reads until the server ends the connection. The
// server drops such a connection as soon as the handshake fails, with the rest of the bytes
// unread, so the kernel answers with a reset that can come before the client's send or
// half-close: those calls may fail too (rawExchange would throw), and are not errors here.
// Returns what the server sent before closing, or nullopt if the 30 s receive timeout expired
// (the server kept the connection open).
std::optional<std::string> garbageExchange(std::uint16_t port, const std::string& bytes) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  std::string reply;
  try {
    for (std::size_t sent = 0; sent < bytes.size();) {
      sent += static_cast<std::size_t>(
          socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent)));
    }
    socket.shutdownSend();
  } catch (const Poco::Exception&) {
    // Reset already: whatever arrived before it is still read below.
  }
  char buf[8192];
  try {
    for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;) {
      reply.append(buf, static_cast<std::size_t>(n));
    }
  } catch (const Poco::TimeoutException&) {
    return std::nullopt;
  } catch (const Poco::Exception&) {
    // A reset ends the connection as well as a close does.
  }
  return reply;
}

TEST_F(TlsTest, GarbageAndPlainHttpOnTheTlsPortDoNotStopTheServer) {
  for (const std::string& bytes :
       {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string("\x16\x03\x01\x00\x05hello"),
        randomBytes(5000, 3)}) {
    // Nothing but a TLS alert or a close comes back: never a plain HTTP reply.
    std::optional<std::string> reply = garbageExchange(port(), bytes);
    ASSERT_TRUE(reply.has_value()) << "the server kept a failed handshake open";
    EXPECT_EQ(reply->rfind("HTTP/", 0), std::string::npos) << *reply;
  }
  awsTls({"s3", "mb", "s3://still-serving"});
  EXPECT_NE(awsTls({"s3", "ls"}).find("still-serving"), std::string::npos);
}

TEST_F(TlsTest, BadCertificateFilesFailToStart) {
  GatewayConfig config;
  config.tls_cert_file = temp_dir_ + "/missing.pem";
  config.tls_key_file = key_;
  GatewayServer server(config, GatewayServices{*metadata_, *objects_, *keys_, *verifier_, metrics_,
                                               clock_, random_, nullptr});
  EXPECT_FALSE(server.start().ok());
  GatewayConfig half;
  half.tls_cert_file = cert_;
  GatewayServer half_server(half, GatewayServices{*metadata_, *objects_, *keys_, *verifier_,
                                                  metrics_, clock_, random_, nullptr});
  EXPECT_FALSE(half_server.start().ok());
  GatewayConfig swapped;  // key and certificate exchanged
  swapped.tls_cert_file = key_;
  swapped.tls_key_file = cert_;
  GatewayServer swapped_server(swapped, GatewayServices{*metadata_, *objects_, *keys_, *verifier_,
                                                        metrics_, clock_, random_, nullptr});
  EXPECT_FALSE(swapped_server.start().ok());
}

class TlsAndPlainTest : public TlsTest {
 protected:
  TlsAndPlainTest() { tls_and_plain_ = true; }
};

TEST_F(TlsAndPlainTest, ServesHttpAndHttpsSideBySide) {
  ASSERT_NE(server_->tlsPort(), 0);
  ASSERT_NE(server_->tlsPort(), port());
  awsTls({"s3", "mb", "s3://both"});
  const std::string dir = dcloud::testing::makeTempDir();
  writeFile(dir + "/x.txt", "over https");
  awsTls({"s3", "cp", dir + "/x.txt", "s3://both/x.txt"});
  HttpReply plain = signedRequest(alice_creds_, "GET", "/both/x.txt", "");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "over https");
}

}  // namespace
}  // namespace dcloud::gateway::testing
