// Object Lock, lifecycle, tagging, CORS and canned ACLs against the real gateway: the python3-boto3
// script bucket_config_client.py for the S3 surface, signed raw requests where exact codes matter,
// a gateway on a shifted clock for retention that runs out, and LifecycleRunner passes on a
// ManualClock checked with the aws CLI.
#include <atomic>
#include <fstream>

#include "common/crypto.h"
#include "common/json.h"
#include "storage-gateway/lifecycle_runner.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

constexpr std::int64_t kDay = 24LL * 3600 * 1000;

// The system clock moved forward by a settable offset: the gateway's "now" for retention.
class ShiftedClock final : public Clock {
 public:
  std::int64_t nowMillis() const override {
    return SystemClock::instance().nowMillis() + offset_.load();
  }
  void advance(std::int64_t ms) { offset_ += ms; }
  std::int64_t offset() const { return offset_.load(); }

 private:
  std::atomic<std::int64_t> offset_{0};
};

class BucketConfigTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    dir_ = dcloud::testing::makeTempDir();
  }
  std::string ok(const std::vector<std::string>& args) {
    CommandResult r = aws(alice_creds_, args);
    EXPECT_EQ(r.rc, 0) << args[1] << "\n" << r.err;
    return r.out;
  }
  void put(const std::string& bucket, const std::string& key, const std::string& data) {
    std::ofstream(dir_ + "/body", std::ios::binary) << data;
    ok({"s3api", "put-object", "--bucket", bucket, "--key", key, "--body", dir_ + "/body"});
  }
  // Restarts the gateway on clock (same database, data and keys).
  void restartOn(const Clock& clock) {
    server_->stop();
    GatewayConfig config;
    config.admins = {admin_->id()};
    server_ = std::make_unique<GatewayServer>(
        config, GatewayServices{*metadata_, *objects_, *keys_, *verifier_, metrics_, clock, random_,
                                [] { return okStatus(); }});
    ASSERT_TRUE(server_->start().ok());
  }
  static std::string contentMd5(const std::string& body) {
    std::string raw;
    const std::string hex = md5Hex(body);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return base64Encode(raw);
  }
  static int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }

  std::string dir_;
};

TEST_F(BucketConfigTest, Boto3ObjectLockTaggingCorsAclAndLifecycle) {
  CommandResult r =
      runCommand({"/usr/bin/python3",
                  std::string(DCLOUD_GATEWAY_TEST_DIR) + "/bucket_config_client.py", endpoint()},
                 {{"AWS_ACCESS_KEY_ID", alice_creds_.access_key},
                  {"AWS_SECRET_ACCESS_KEY", alice_creds_.secret_key},
                  {"AWS_CONFIG_FILE", "/dev/null"},
                  {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                  {"AWS_EC2_METADATA_DISABLED", "true"}});
  EXPECT_EQ(r.rc, 0) << r.out << "\n" << r.err;
  EXPECT_NE(r.out.find("ALL OK"), std::string::npos) << r.out << "\n" << r.err;
}

TEST_F(BucketConfigTest, LockHeadersNeedADigestAndSubresourcesNeverWriteObjects) {
  HttpReply created = signedRequest(alice_creds_, "PUT", "/vault", "",
                                    {{"x-amz-bucket-object-lock-enabled", "true"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string until = "2099-01-01T00:00:00Z";
  HttpReply no_md5 = signedRequest(
      alice_creds_, "PUT", "/vault/a", "data",
      {{"x-amz-object-lock-mode", "COMPLIANCE"}, {"x-amz-object-lock-retain-until-date", until}});
  EXPECT_EQ(no_md5.status, 400);
  EXPECT_NE(no_md5.body.find("Content-MD5"), std::string::npos) << no_md5.body;
  HttpReply half = signedRequest(
      alice_creds_, "PUT", "/vault/a", "data",
      {{"x-amz-object-lock-mode", "COMPLIANCE"}, {"content-md5", contentMd5("data")}});
  EXPECT_EQ(half.status, 400) << half.body;
  HttpReply past = signedRequest(alice_creds_, "PUT", "/vault/a", "data",
                                 {{"x-amz-object-lock-mode", "COMPLIANCE"},
                                  {"x-amz-object-lock-retain-until-date", "2001-01-01T00:00:00Z"},
                                  {"content-md5", contentMd5("data")}});
  EXPECT_EQ(past.status, 400) << past.body;
  HttpReply stored = signedRequest(alice_creds_, "PUT", "/vault/a", "data",
                                   {{"x-amz-object-lock-mode", "COMPLIANCE"},
                                    {"x-amz-object-lock-retain-until-date", until},
                                    {"content-md5", contentMd5("data")}});
  ASSERT_EQ(stored.status, 200) << stored.body;
  HttpReply head = signedRequest(alice_creds_, "HEAD", "/vault/a", "");
  EXPECT_EQ(head.headers["x-amz-object-lock-mode"], "COMPLIANCE");
  EXPECT_EQ(head.headers["x-amz-object-lock-retain-until-date"], "2099-01-01T00:00:00.000Z");

  // Configuration sub-resources on a key or bucket never fall through to object writes.
  EXPECT_EQ(signedRequest(alice_creds_, "PUT", "/vault/a?lifecycle", "<x/>").status, 405);
  EXPECT_EQ(signedRequest(alice_creds_, "PUT", "/vault/a?cors", "<x/>").status, 405);
  EXPECT_EQ(signedRequest(alice_creds_, "PUT", "/vault?retention", "<x/>").status, 405);
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/vault/a", "").body, "data");
  HttpReply malformed =
      signedRequest(alice_creds_, "PUT", "/vault?lifecycle", "<LifecycleConfiguration><Rule>", {});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("MalformedXML"), std::string::npos) << malformed.body;
  // Bob is not the owner: no configuration is his to read or change.
  EXPECT_EQ(signedRequest(bob_creds_, "GET", "/vault?object-lock", "").status, 403);
  EXPECT_EQ(signedRequest(bob_creds_, "GET", "/vault/a?retention", "").status, 403);
}

TEST_F(BucketConfigTest, RetentionBindsUntilItsDateOnTheGatewayClock) {
  ShiftedClock clock;
  restartOn(clock);
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/vault", "",
                          {{"x-amz-bucket-object-lock-enabled", "true"}})
                .status,
            200);
  const std::string until = amzDate(clock.nowMillis() + 2 * kDay);
  const std::string iso = until.substr(0, 4) + "-" + until.substr(4, 2) + "-" + until.substr(6, 2) +
                          "T" + until.substr(9, 2) + ":" + until.substr(11, 2) + ":" +
                          until.substr(13, 2) + "Z";
  HttpReply put = signedRequest(alice_creds_, "PUT", "/vault/k", "locked",
                                {{"x-amz-object-lock-mode", "COMPLIANCE"},
                                 {"x-amz-object-lock-retain-until-date", iso},
                                 {"content-md5", contentMd5("locked")}});
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string version = put.headers["x-amz-version-id"];
  ASSERT_FALSE(version.empty());
  HttpReply refused = signedRequest(alice_creds_, "DELETE", "/vault/k?versionId=" + version, "",
                                    {{"x-amz-bypass-governance-retention", "true"}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  // A day later it still holds; the bucket's content is unchanged.
  clock.advance(kDay);
  EXPECT_EQ(signedRequest(alice_creds_, "DELETE", "/vault/k?versionId=" + version, "", {}, "",
                          clock.offset())
                .status,
            403);
  // Past the date, the version may go.
  clock.advance(2 * kDay);
  HttpReply gone = signedRequest(alice_creds_, "DELETE", "/vault/k?versionId=" + version, "", {},
                                 "", clock.offset());
  EXPECT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/vault/k", "", {}, "", clock.offset()).status, 404);
}

TEST_F(BucketConfigTest, LifecycleRunnerExpiresRemovesAndAbortsButSparesLockedVersions) {
  ok({"s3", "mb", "s3://life"});
  ok({"s3api", "put-bucket-versioning", "--bucket", "life", "--versioning-configuration",
      "Status=Enabled"});
  put("life", "tmp/a", "expires");
  put("life", "keep/b", "stays");
  put("life", "keep/c", "old");
  put("life", "keep/c", "new");
  ok({"s3api", "create-multipart-upload", "--bucket", "life", "--key", "tmp/upload"});
  ok({"s3", "mb", "s3://flat"});
  put("flat", "tmp/x", "expires");
  put("flat", "y", "stays");
  const std::string rules =
      R"({"Rules": [{"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
          "Expiration": {"Days": 1}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
         {"ID": "old", "Filter": {}, "Status": "Enabled",
          "NoncurrentVersionExpiration": {"NoncurrentDays": 2}}]})";
  for (const char* bucket : {"life", "flat"}) {
    ok({"s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", rules});
  }
  // A locked bucket whose noncurrent version is under COMPLIANCE retention for 30 days.
  ok({"s3api", "create-bucket", "--bucket", "vault", "--object-lock-enabled-for-bucket"});
  ok({"s3api", "put-object-lock-configuration", "--bucket", "vault", "--object-lock-configuration",
      R"({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}})"});
  put("vault", "doc", "v1");
  put("vault", "doc", "v2");
  ok({"s3api", "put-bucket-lifecycle-configuration", "--bucket", "vault",
      "--lifecycle-configuration", rules});

  ManualClock clock(SystemClock::instance().nowMillis());
  LifecycleRunner runner(*metadata_, *objects_, clock, random_);
  Result<LifecycleStats> first = runner.runOnce();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->buckets, 3);
  EXPECT_EQ(first->expired + first->versions_removed + first->uploads_aborted, 0);

  clock.advanceMillis(5 * kDay);
  Result<LifecycleStats> later = runner.runOnce();
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->expired, 2);           // life/tmp/a (marker), flat/tmp/x (removed)
  EXPECT_EQ(later->versions_removed, 1);  // life/keep/c's old version
  EXPECT_EQ(later->uploads_aborted, 1);
  EXPECT_EQ(later->skipped_locked, 1);  // vault/doc v1
  EXPECT_EQ(later->errors, 0);

  const std::string lc = ok({"s3api", "list-object-versions", "--bucket", "life"});
  EXPECT_EQ(count(lc, "\"Key\": \"tmp/a\""), 2) << lc;  // the version and its delete marker
  EXPECT_EQ(count(lc, "\"Key\": \"keep/c\""), 1) << lc;
  const std::string current = ok({"s3api", "list-objects-v2", "--bucket", "life"});
  EXPECT_EQ(current.find("tmp/a"), std::string::npos) << current;
  EXPECT_NE(current.find("keep/b"), std::string::npos) << current;
  EXPECT_EQ(ok({"s3api", "list-multipart-uploads", "--bucket", "life"}).find("tmp/upload"),
            std::string::npos);
  const std::string flat = ok({"s3api", "list-objects-v2", "--bucket", "flat"});
  EXPECT_EQ(flat.find("tmp/x"), std::string::npos) << flat;
  EXPECT_NE(flat.find("\"y\""), std::string::npos) << flat;
  const std::string vault = ok({"s3api", "list-object-versions", "--bucket", "vault"});
  EXPECT_EQ(count(vault, "\"Key\": \"doc\""), 2) << vault;

  // Nothing more to do on the next pass.
  Result<LifecycleStats> again = runner.runOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->expired + again->versions_removed + again->uploads_aborted, 0);
}

}  // namespace
}  // namespace dcloud::gateway::testing
