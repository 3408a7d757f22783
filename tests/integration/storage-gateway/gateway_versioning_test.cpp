// CopyObject, DeleteObjects and bucket versioning, driven by the aws CLI (s3api copy-object,
// delete-objects, put-bucket-versioning, list-object-versions) and by signed raw requests where
// exact status codes, headers and paging matter.
#include <fstream>

#include "common/crypto.h"
#include "common/json.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

class GatewayVersioningTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    dir_ = dcloud::testing::makeTempDir();
  }
  // Runs aws as alice; returns stdout, requiring rc 0 unless fails is set.
  std::string ok(const std::vector<std::string>& args) {
    CommandResult r = aws(alice_creds_, args);
    EXPECT_EQ(r.rc, 0) << args[1] << "\n" << r.err;
    return r.out;
  }
  std::string fails(const std::vector<std::string>& args) {
    CommandResult r = aws(alice_creds_, args);
    EXPECT_NE(r.rc, 0) << args[1] << "\n" << r.out;
    return r.err;
  }
  std::string put(const std::string& bucket, const std::string& key, const std::string& data,
                  std::vector<std::string> extra = {}) {
    std::ofstream(dir_ + "/body", std::ios::binary) << data;
    std::vector<std::string> args = {"s3api", "put-object", "--bucket", bucket,
                                     "--key", key,          "--body",   dir_ + "/body"};
    args.insert(args.end(), extra.begin(), extra.end());
    return ok(args);
  }
  std::string get(const std::string& bucket, const std::string& key,
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"s3api", "get-object", "--bucket", bucket, "--key", key};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(dir_ + "/out");
    CommandResult r = aws(alice_creds_, args);
    if (r.rc != 0) return "ERROR " + r.err;
    std::ifstream in(dir_ + "/out", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string field(const std::string& json, const std::string& name) {
    Result<JsonObject> obj = parseJsonObject(json);
    if (!obj.ok() || !(*obj)->has(name)) return "";
    return (*obj)->getValue<std::string>(name);
  }
  // A signed POST ?delete with the body's Content-MD5.
  HttpReply deleteObjects(const std::string& bucket, const std::string& xml, bool md5 = true) {
    std::map<std::string, std::string> extra;
    if (md5) extra["content-md5"] = base64Encode(hexDecodeForTest(md5Hex(xml)));
    return signedRequest(alice_creds_, "POST", "/" + bucket + "?delete=", xml, extra);
  }
  static std::string hexDecodeForTest(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
  }
  static int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }

  std::string dir_;
};

TEST_F(GatewayVersioningTest, CopyObjectCopiesOrReplacesMetadata) {
  ok({"s3", "mb", "s3://src"});
  ok({"s3", "mb", "s3://dst"});
  put("src", "a.txt", "copy me", {"--content-type", "text/plain", "--metadata", "color=blue"});

  const std::string copied = ok(
      {"s3api", "copy-object", "--bucket", "dst", "--key", "b.txt", "--copy-source", "src/a.txt"});
  EXPECT_NE(copied.find(md5Hex("copy me")), std::string::npos) << copied;
  std::string head = ok({"s3api", "head-object", "--bucket", "dst", "--key", "b.txt"});
  EXPECT_NE(head.find("\"ContentType\": \"text/plain\""), std::string::npos) << head;
  EXPECT_NE(head.find("\"color\": \"blue\""), std::string::npos) << head;
  EXPECT_EQ(get("dst", "b.txt"), "copy me");

  ok({"s3api", "copy-object", "--bucket", "dst", "--key", "c.txt", "--copy-source", "src/a.txt",
      "--metadata-directive", "REPLACE", "--content-type", "application/json", "--metadata",
      "size=big"});
  head = ok({"s3api", "head-object", "--bucket", "dst", "--key", "c.txt"});
  EXPECT_NE(head.find("\"ContentType\": \"application/json\""), std::string::npos) << head;
  EXPECT_NE(head.find("\"size\": \"big\""), std::string::npos) << head;
  EXPECT_EQ(head.find("color"), std::string::npos) << head;

  // Onto itself: only with REPLACE, as S3.
  EXPECT_NE(fails({"s3api", "copy-object", "--bucket", "src", "--key", "a.txt", "--copy-source",
                   "src/a.txt"})
                .find("InvalidRequest"),
            std::string::npos);
  ok({"s3api", "copy-object", "--bucket", "src", "--key", "a.txt", "--copy-source", "src/a.txt",
      "--metadata-directive", "REPLACE", "--metadata", "color=red"});
  head = ok({"s3api", "head-object", "--bucket", "src", "--key", "a.txt"});
  EXPECT_NE(head.find("\"color\": \"red\""), std::string::npos) << head;
  EXPECT_EQ(get("src", "a.txt"), "copy me");

  // Source conditions, missing sources, other owners' buckets, keys with odd characters.
  EXPECT_NE(fails({"s3api", "copy-object", "--bucket", "dst", "--key", "d", "--copy-source",
                   "src/a.txt", "--copy-source-if-match", "\"0123\""})
                .find("PreconditionFailed"),
            std::string::npos);
  ok({"s3api", "copy-object", "--bucket", "dst", "--key", "d", "--copy-source", "src/a.txt",
      "--copy-source-if-none-match", "\"0123\""});
  EXPECT_NE(fails({"s3api", "copy-object", "--bucket", "dst", "--key", "e", "--copy-source",
                   "src/missing"})
                .find("NoSuchKey"),
            std::string::npos);
  CommandResult bob = aws(bob_creds_, {"s3api", "copy-object", "--bucket", "dst", "--key", "x",
                                       "--copy-source", "src/a.txt"});
  EXPECT_NE(bob.rc, 0);
  EXPECT_NE(bob.err.find("AccessDenied"), std::string::npos) << bob.err;
  put("src", "dir/with space+plus.txt", "odd");
  ok({"s3api", "copy-object", "--bucket", "dst", "--key", "odd", "--copy-source",
      "src/dir/with space+plus.txt"});
  EXPECT_EQ(get("dst", "odd"), "odd");
  // src: a.txt, odd; dst: b.txt, c.txt, d, odd.
  EXPECT_EQ(dataFiles(), 6u);
}

TEST_F(GatewayVersioningTest, DeleteObjectsVerboseQuietAndDigests) {
  ok({"s3", "mb", "s3://batch"});
  for (const char* key : {"k1", "k2", "k3", "k4"}) put("batch", key, key);
  const std::string verbose = ok({"s3api", "delete-objects", "--bucket", "batch", "--delete",
                                  "Objects=[{Key=k1},{Key=k2},{Key=never}]"});
  EXPECT_NE(verbose.find("\"Key\": \"k1\""), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("\"Key\": \"never\""), std::string::npos) << verbose;
  const std::string quiet = ok({"s3api", "delete-objects", "--bucket", "batch", "--delete",
                                "Objects=[{Key=k3}],Quiet=true"});
  EXPECT_EQ(quiet.find("k3"), std::string::npos) << quiet;
  EXPECT_EQ(ok({"s3", "ls", "s3://batch"}).find("k1"), std::string::npos);
  EXPECT_EQ(dataFiles(), 1u);

  const std::string xml =
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>k4</Key></Object>"
      "<Object><Key>a&amp;b</Key></Object><Object><Key>" +
      std::string(1100, 'x') + "</Key></Object></Delete>";
  HttpReply no_md5 = deleteObjects("batch", xml, false);
  EXPECT_EQ(no_md5.status, 400);
  EXPECT_NE(no_md5.body.find("Content-MD5"), std::string::npos) << no_md5.body;
  std::map<std::string, std::string> bad{{"content-md5", base64Encode(std::string(16, 'x'))}};
  HttpReply wrong = signedRequest(alice_creds_, "POST", "/batch?delete=", xml, bad);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("BadDigest"), std::string::npos) << wrong.body;
  EXPECT_EQ(dataFiles(), 1u);
  HttpReply malformed = deleteObjects("batch", "<Delete><Object></Object>");
  EXPECT_NE(malformed.body.find("MalformedXML"), std::string::npos) << malformed.body;

  HttpReply done = deleteObjects("batch", xml);
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("<Deleted><Key>k4</Key></Deleted>"), std::string::npos) << done.body;
  EXPECT_NE(done.body.find("<Deleted><Key>a&amp;b</Key></Deleted>"), std::string::npos);
  EXPECT_NE(done.body.find("<Code>KeyTooLongError</Code>"), std::string::npos) << done.body;
  EXPECT_EQ(dataFiles(), 0u);
  // Another owner's bucket.
  HttpReply bob = signedRequest(
      bob_creds_, "POST", "/batch?delete=", "<Delete><Object><Key>k</Key></Object></Delete>",
      {{"content-md5", base64Encode(hexDecodeForTest(md5Hex("<Delete><Object><Key>k</Key></Object>"
                                                            "</Delete>")))}});
  EXPECT_EQ(bob.status, 403);
}

TEST_F(GatewayVersioningTest, VersionsDeleteMarkersAndSuspend) {
  ok({"s3", "mb", "s3://ver"});
  EXPECT_EQ(ok({"s3api", "get-bucket-versioning", "--bucket", "ver"}), "");
  ok({"s3api", "put-bucket-versioning", "--bucket", "ver", "--versioning-configuration",
      "Status=Enabled"});
  EXPECT_NE(ok({"s3api", "get-bucket-versioning", "--bucket", "ver"}).find("Enabled"),
            std::string::npos);

  const std::string v1 = field(put("ver", "doc", "one"), "VersionId");
  const std::string v2 = field(put("ver", "doc", "two"), "VersionId");
  ASSERT_FALSE(v1.empty());
  ASSERT_NE(v1, v2);
  EXPECT_EQ(get("ver", "doc"), "two");
  EXPECT_EQ(get("ver", "doc", {"--version-id", v1}), "one");
  EXPECT_EQ(dataFiles(), 2u);

  // A delete adds a marker: the key leaves listings, its versions stay readable.
  const std::string del = ok({"s3api", "delete-object", "--bucket", "ver", "--key", "doc"});
  EXPECT_NE(del.find("\"DeleteMarker\": true"), std::string::npos) << del;
  const std::string marker = field(del, "VersionId");
  EXPECT_EQ(ok({"s3", "ls", "s3://ver"}), "");
  EXPECT_NE(get("ver", "doc").find("NoSuchKey"), std::string::npos);
  EXPECT_EQ(get("ver", "doc", {"--version-id", v2}), "two");
  HttpReply at_marker = signedRequest(alice_creds_, "GET", "/ver/doc?versionId=" + marker, "");
  EXPECT_EQ(at_marker.status, 405);
  EXPECT_EQ(at_marker.headers["x-amz-delete-marker"], "true");
  EXPECT_NE(get("ver", "doc", {"--version-id", "nosuchversion"}).find("NoSuchVersion"),
            std::string::npos);

  std::string versions = ok({"s3api", "list-object-versions", "--bucket", "ver"});
  EXPECT_EQ(count(versions, "\"VersionId\""), 3) << versions;
  EXPECT_NE(versions.find("DeleteMarkers"), std::string::npos) << versions;

  // Removing the marker brings v2 back; removing v2 for good leaves v1 current.
  ok({"s3api", "delete-object", "--bucket", "ver", "--key", "doc", "--version-id", marker});
  EXPECT_EQ(get("ver", "doc"), "two");
  ok({"s3api", "delete-object", "--bucket", "ver", "--key", "doc", "--version-id", v2});
  EXPECT_EQ(get("ver", "doc"), "one");
  EXPECT_EQ(dataFiles(), 1u);

  // Suspended: new writes are the "null" version and replace each other.
  ok({"s3api", "put-bucket-versioning", "--bucket", "ver", "--versioning-configuration",
      "Status=Suspended"});
  EXPECT_EQ(field(put("ver", "doc", "three"), "VersionId"), "null");
  put("ver", "doc", "four");
  EXPECT_EQ(get("ver", "doc"), "four");
  EXPECT_EQ(get("ver", "doc", {"--version-id", v1}), "one");
  EXPECT_EQ(dataFiles(), 2u);  // v1 and the null version
  versions = ok({"s3api", "list-object-versions", "--bucket", "ver"});
  EXPECT_EQ(count(versions, "\"VersionId\""), 2) << versions;
  // A delete while suspended replaces the null version with a null marker.
  ok({"s3api", "delete-object", "--bucket", "ver", "--key", "doc"});
  EXPECT_EQ(dataFiles(), 1u);
  // A bucket holding versions is not empty.
  EXPECT_NE(fails({"s3api", "delete-bucket", "--bucket", "ver"}).find("BucketNotEmpty"),
            std::string::npos);
  // DeleteObjects by version id empties it.
  ok({"s3api", "delete-objects", "--bucket", "ver", "--delete",
      "Objects=[{Key=doc,VersionId=" + v1 + "},{Key=doc,VersionId=null}]"});
  EXPECT_EQ(dataFiles(), 0u);
  ok({"s3api", "delete-bucket", "--bucket", "ver"});
}

TEST_F(GatewayVersioningTest, ListObjectVersionsPagesWithMarkersAndDelimiter) {
  ok({"s3", "mb", "s3://pages"});
  ok({"s3api", "put-bucket-versioning", "--bucket", "pages", "--versioning-configuration",
      "Status=Enabled"});
  // a: 3 versions, b/x and b/y: 1 each, c: 2 versions.
  for (int i = 0; i < 3; ++i) put("pages", "a", "a" + std::to_string(i));
  put("pages", "b/x", "x");
  put("pages", "b/y", "y");
  put("pages", "c", "c0");
  put("pages", "c", "c1");

  // Page through 2 at a time: 7 versions in 4 pages, newest first within a key.
  std::vector<std::string> seen;
  std::string key_marker;
  std::string version_marker;
  for (int page = 0; page < 10; ++page) {
    std::string path = "/pages?versions=&max-keys=2";
    if (!key_marker.empty()) path += "&key-marker=" + key_marker;
    if (!version_marker.empty()) path += "&version-id-marker=" + version_marker;
    HttpReply r = signedRequest(alice_creds_, "GET", path, "");
    ASSERT_EQ(r.status, 200) << r.body;
    for (std::size_t p = r.body.find("<Key>"); p != std::string::npos;
         p = r.body.find("<Key>", p + 1)) {
      seen.push_back(r.body.substr(p + 5, r.body.find("</Key>", p) - p - 5));
    }
    if (r.body.find("<IsTruncated>true</IsTruncated>") == std::string::npos) break;
    auto text = [&](const std::string& name) {
      const std::size_t a = r.body.find("<" + name + ">");
      return a == std::string::npos
                 ? std::string()
                 : r.body.substr(a + name.size() + 2,
                                 r.body.find("</" + name + ">") - a - name.size() - 2);
    };
    key_marker = text("NextKeyMarker");
    version_marker = text("NextVersionIdMarker");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "a", "a", "b/x", "b/y", "c", "c"}));

  HttpReply rolled = signedRequest(alice_creds_, "GET", "/pages?versions=&delimiter=/", "");
  EXPECT_EQ(count(rolled.body, "<Version>"), 5) << rolled.body;
  EXPECT_NE(rolled.body.find("<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"),
            std::string::npos)
      << rolled.body;
  EXPECT_EQ(count(rolled.body, "<IsLatest>true</IsLatest>"), 2) << rolled.body;
  // Listings show only current versions.
  const std::string listed = ok({"s3api", "list-objects-v2", "--bucket", "pages"});
  EXPECT_EQ(count(listed, "\"Key\""), 4) << listed;
}

}  // namespace
}  // namespace dcloud::gateway::testing
