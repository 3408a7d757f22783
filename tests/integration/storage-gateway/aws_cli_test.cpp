// The gateway driven by Debian's aws CLI (/usr/bin/aws), the way users will drive it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/http_client.h"
#include "common/json.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

std::string readAll(const std::string& path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class AwsCliTest : public GatewayFixture {
 protected:
  // Runs aws as alice and requires success.
  std::string ok(const std::vector<std::string>& args) {
    CommandResult r = aws(alice_creds_, args);
    EXPECT_EQ(r.rc, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n" << r.err;
    return r.out;
  }
};

TEST_F(AwsCliTest, BucketAndObjectRoundTrip) {
  const std::string dir = dcloud::testing::makeTempDir();
  ok({"s3", "mb", "s3://photos"});
  EXPECT_NE(ok({"s3", "ls"}).find("photos"), std::string::npos);

  const std::string data = randomBytes(300 * 1024, 1);
  writeFile(dir + "/a.bin", data);
  ok({"s3", "cp", dir + "/a.bin", "s3://photos/2024/a.bin"});
  const std::string listing = ok({"s3", "ls", "s3://photos/2024/"});
  EXPECT_NE(listing.find("307200 a.bin"), std::string::npos) << listing;
  ok({"s3", "cp", "s3://photos/2024/a.bin", dir + "/back.bin"});
  EXPECT_EQ(readAll(dir + "/back.bin"), data);

  // s3api with metadata and content type.
  writeFile(dir + "/note.txt", "hello gateway");
  ok({"s3api", "put-object", "--bucket", "photos", "--key", "notes/n1.txt", "--body",
      dir + "/note.txt", "--content-type", "text/plain", "--metadata", "color=blue,owner=me"});
  const std::string head =
      ok({"s3api", "head-object", "--bucket", "photos", "--key", "notes/n1.txt"});
  EXPECT_NE(head.find("\"ContentLength\": 13"), std::string::npos) << head;
  EXPECT_NE(head.find(md5Hex("hello gateway")), std::string::npos) << head;
  EXPECT_NE(head.find("\"ContentType\": \"text/plain\""), std::string::npos) << head;
  EXPECT_NE(head.find("\"color\": \"blue\""), std::string::npos) << head;
  EXPECT_NE(head.find("\"LastModified\""), std::string::npos) << head;
  const std::string got =
      ok({"s3api", "get-object", "--bucket", "photos", "--key", "notes/n1.txt", dir + "/n1.out"});
  EXPECT_NE(got.find("\"owner\": \"me\""), std::string::npos) << got;
  EXPECT_EQ(readAll(dir + "/n1.out"), "hello gateway");

  const std::string v2 = ok({"s3api", "list-objects-v2", "--bucket", "photos", "--delimiter", "/"});
  EXPECT_NE(v2.find("\"Prefix\": \"2024/\""), std::string::npos) << v2;
  EXPECT_NE(v2.find("\"Prefix\": \"notes/\""), std::string::npos) << v2;
  EXPECT_EQ(v2.find("\"Key\""), std::string::npos) << v2;

  // Missing objects and buckets are proper S3 errors.
  CommandResult missing =
      aws(alice_creds_, {"s3api", "get-object", "--bucket", "photos", "--key", "nope", dir + "/x"});
  EXPECT_NE(missing.rc, 0);
  EXPECT_NE(missing.err.find("NoSuchKey"), std::string::npos) << missing.err;
  CommandResult no_bucket = aws(alice_creds_, {"s3", "ls", "s3://nobucket"});
  EXPECT_NE(no_bucket.rc, 0);
  EXPECT_NE(no_bucket.err.find("NoSuchBucket"), std::string::npos) << no_bucket.err;

  // Removing a non-empty bucket fails; emptying it then removing works.
  CommandResult rb = aws(alice_creds_, {"s3", "rb", "s3://photos"});
  EXPECT_NE(rb.rc, 0);
  EXPECT_NE(rb.err.find("BucketNotEmpty"), std::string::npos) << rb.err;
  ok({"s3", "rm", "--recursive", "s3://photos/"});
  EXPECT_EQ(ok({"s3", "ls", "s3://photos/"}), "");
  EXPECT_EQ(dataFiles(), 0u);
  ok({"s3", "rb", "s3://photos"});
  EXPECT_EQ(ok({"s3", "ls"}).find("photos"), std::string::npos);
}

TEST_F(AwsCliTest, MultiMegabyteUploadAndDownload) {
  const std::string dir = dcloud::testing::makeTempDir();
  ok({"s3", "mb", "s3://big"});
  const std::string data = randomBytes(20 * 1024 * 1024 + 123, 2);
  writeFile(dir + "/big.bin", data);
  ok({"s3", "cp", dir + "/big.bin", "s3://big/blob.bin"});
  const std::string head = ok({"s3api", "head-object", "--bucket", "big", "--key", "blob.bin"});
  EXPECT_NE(head.find(md5Hex(data)), std::string::npos) << head;
  ok({"s3", "cp", "s3://big/blob.bin", dir + "/back.bin"});
  EXPECT_EQ(readAll(dir + "/back.bin") == data, true);
  // Overwriting replaces the object and frees the old data.
  writeFile(dir + "/small.bin", "small");
  ok({"s3", "cp", dir + "/small.bin", "s3://big/blob.bin"});
  ok({"s3", "cp", "s3://big/blob.bin", dir + "/back2.bin"});
  EXPECT_EQ(readAll(dir + "/back2.bin"), "small");
  EXPECT_EQ(dataFiles(), 1u);
}

TEST_F(AwsCliTest, MultipartUploadWithAwscliDefaults) {
  aws_s3_config_ = "  multipart_threshold = 8MB\n  multipart_chunksize = 8MB\n";
  const std::string dir = dcloud::testing::makeTempDir();
  ok({"s3", "mb", "s3://multi"});
  const std::string data = randomBytes(20 * 1024 * 1024 + 5, 6);
  writeFile(dir + "/big.bin", data);
  ok({"s3", "cp", dir + "/big.bin", "s3://multi/dir/big.bin", "--content-type",
      "application/x-test", "--metadata", "kind=multi"});
  const std::string head =
      ok({"s3api", "head-object", "--bucket", "multi", "--key", "dir/big.bin"});
  EXPECT_NE(head.find("-3\\\""), std::string::npos) << head;  // ETag of 3 parts
  EXPECT_NE(head.find("\"ContentLength\": 20971525"), std::string::npos) << head;
  EXPECT_NE(head.find("application/x-test"), std::string::npos) << head;
  EXPECT_NE(head.find("\"kind\": \"multi\""), std::string::npos) << head;
  ok({"s3", "cp", "s3://multi/dir/big.bin", dir + "/back.bin"});
  EXPECT_EQ(readAll(dir + "/back.bin") == data, true);
  EXPECT_EQ(dataFiles(), 1u);  // the parts are gone, one object file remains
}

TEST_F(AwsCliTest, MultipartAbortAndRules) {
  const std::string dir = dcloud::testing::makeTempDir();
  ok({"s3", "mb", "s3://mpu"});
  auto field = [](const std::string& json, const std::string& name) {
    Result<JsonObject> obj = parseJsonObject(json);
    return obj.ok() ? (*obj)->getValue<std::string>(name) : std::string();
  };
  const std::string upload_id =
      field(ok({"s3api", "create-multipart-upload", "--bucket", "mpu", "--key", "k"}), "UploadId");
  ASSERT_FALSE(upload_id.empty());
  writeFile(dir + "/small", "tiny part");
  const std::string etag1 =
      field(ok({"s3api", "upload-part", "--bucket", "mpu", "--key", "k", "--part-number", "1",
                "--upload-id", upload_id, "--body", dir + "/small"}),
            "ETag");
  const std::string etag2 =
      field(ok({"s3api", "upload-part", "--bucket", "mpu", "--key", "k", "--part-number", "2",
                "--upload-id", upload_id, "--body", dir + "/small"}),
            "ETag");
  EXPECT_EQ(dataFiles(), 2u);
  // Parts before the last must be at least 5 MiB.
  JsonObject p = new Poco::JSON::Object;
  JsonArray list = new Poco::JSON::Array;
  for (const auto& [n, e] : {std::pair<int, std::string>{1, etag1}, {2, etag2}}) {
    JsonObject item = new Poco::JSON::Object;
    item->set("PartNumber", n);
    item->set("ETag", e);
    list->add(item);
  }
  p->set("Parts", list);
  writeFile(dir + "/parts.json", toJson(p));
  CommandResult small = aws(alice_creds_, {"s3api", "complete-multipart-upload", "--bucket", "mpu",
                                           "--key", "k", "--upload-id", upload_id,
                                           "--multipart-upload", "file://" + dir + "/parts.json"});
  EXPECT_NE(small.rc, 0);
  EXPECT_NE(small.err.find("EntityTooSmall"), std::string::npos) << small.err;
  // Another principal cannot touch the upload.
  CommandResult theirs = aws(bob_creds_, {"s3api", "abort-multipart-upload", "--bucket", "mpu",
                                          "--key", "k", "--upload-id", upload_id});
  EXPECT_NE(theirs.rc, 0);
  ok({"s3api", "abort-multipart-upload", "--bucket", "mpu", "--key", "k", "--upload-id",
      upload_id});
  EXPECT_EQ(dataFiles(), 0u);
  CommandResult gone =
      aws(alice_creds_, {"s3api", "upload-part", "--bucket", "mpu", "--key", "k", "--part-number",
                         "3", "--upload-id", upload_id, "--body", dir + "/small"});
  EXPECT_NE(gone.err.find("NoSuchUpload"), std::string::npos) << gone.err;
  EXPECT_EQ(dataFiles(), 0u);
  EXPECT_EQ(ok({"s3", "ls", "s3://mpu/"}), "");
}

TEST_F(AwsCliTest, KeysWithSpacesAndUnicode) {
  const std::string dir = dcloud::testing::makeTempDir();
  ok({"s3", "mb", "s3://intl"});
  const std::string local = dir + "/my file \xc3\xa9\xe6\x97\xa5\xe6\x9c\xac.txt";
  writeFile(local, "unicode body");
  const std::string key = "dir with space/\xc3\xbc \xc3\xb1/file (1)+&=?.txt";
  ok({"s3", "cp", local, "s3://intl/" + key});
  const std::string listing = ok({"s3", "ls", "--recursive", "s3://intl/"});
  EXPECT_NE(listing.find(key), std::string::npos) << listing;
  ok({"s3", "cp", "s3://intl/" + key, dir + "/back.txt"});
  EXPECT_EQ(readAll(dir + "/back.txt"), "unicode body");
  const std::string v2 =
      ok({"s3api", "list-objects-v2", "--bucket", "intl", "--prefix", "dir with space/\xc3\xbc"});
  EXPECT_NE(v2.find("\"Key\": \"" + key + "\""), std::string::npos) << v2;
  EXPECT_EQ(v2.find("\"Key\"", v2.find("\"Key\"") + 1), std::string::npos) << v2;
}

TEST_F(AwsCliTest, PaginationStartAfterAndMaxKeys) {
  ok({"s3", "mb", "s3://pages"});
  const std::string dir = dcloud::testing::makeTempDir();
  writeFile(dir + "/f", "x");
  for (int i = 0; i < 7; ++i) {
    ok({"s3api", "put-object", "--bucket", "pages", "--key", "k" + std::to_string(i), "--body",
        dir + "/f"});
  }
  // The CLI follows NextContinuationToken itself; text output prints one line per page.
  const std::string all = ok({"s3api", "list-objects-v2", "--bucket", "pages", "--page-size", "3",
                              "--query", "Contents[].Key", "--output", "text"});
  EXPECT_EQ(all, "k0\tk1\tk2\nk3\tk4\tk5\nk6\n");
  const std::string first = ok({"s3api", "list-objects-v2", "--bucket", "pages", "--max-keys", "3",
                                "--no-paginate", "--output", "json"});
  EXPECT_NE(first.find("\"IsTruncated\": true"), std::string::npos) << first;
  Result<JsonObject> parsed = parseJsonObject(first);
  ASSERT_TRUE(parsed.ok());
  const std::string token = (*parsed)->getValue<std::string>("NextContinuationToken");
  const std::string second =
      ok({"s3api", "list-objects-v2", "--bucket", "pages", "--max-keys", "3", "--no-paginate",
          "--continuation-token", token, "--query", "Contents[].Key", "--output", "text"});
  EXPECT_EQ(second.substr(0, second.find('\n')), "k3\tk4\tk5");
  const std::string after = ok({"s3api", "list-objects-v2", "--bucket", "pages", "--start-after",
                                "k4", "--query", "Contents[].Key", "--output", "text"});
  EXPECT_EQ(after.substr(0, after.find('\n')), "k5\tk6");
}

TEST_F(AwsCliTest, WrongSecretIsRefusedAndStoresNothing) {
  ok({"s3", "mb", "s3://safe"});
  const std::string dir = dcloud::testing::makeTempDir();
  writeFile(dir + "/f", "secret data");
  SigV4Credentials wrong = alice_creds_;
  wrong.secret_key = "not-the-secret-at-all-0000000000000000000";
  CommandResult r = aws(wrong, {"s3", "cp", dir + "/f", "s3://safe/f"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
  SigV4Credentials unknown{"DCNOSUCHKEY0000000000", "whatever-secret"};
  CommandResult u = aws(unknown, {"s3", "ls"});
  EXPECT_NE(u.rc, 0);
  EXPECT_NE(u.err.find("InvalidAccessKeyId"), std::string::npos) << u.err;
  EXPECT_EQ(ok({"s3", "ls", "s3://safe/"}), "");
  EXPECT_EQ(dataFiles(), 0u);
}

TEST_F(AwsCliTest, OtherPrincipalsAreDenied) {
  ok({"s3", "mb", "s3://alices"});
  const std::string dir = dcloud::testing::makeTempDir();
  writeFile(dir + "/f", "mine");
  ok({"s3", "cp", dir + "/f", "s3://alices/f"});
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"s3", "ls", "s3://alices/"},
        std::vector<std::string>{"s3", "cp", "s3://alices/f", dir + "/g"},
        std::vector<std::string>{"s3", "cp", dir + "/f", "s3://alices/h"},
        std::vector<std::string>{"s3", "rm", "s3://alices/f"}}) {
    CommandResult r = aws(bob_creds_, args);
    EXPECT_NE(r.rc, 0) << args[1];
    EXPECT_TRUE(r.err.find("AccessDenied") != std::string::npos ||
                r.err.find("403") != std::string::npos)
        << args[1] << ": " << r.err;
  }
  CommandResult mb = aws(bob_creds_, {"s3", "mb", "s3://alices"});
  EXPECT_NE(mb.err.find("BucketAlreadyExists"), std::string::npos) << mb.err;
  CommandResult ls = aws(bob_creds_, {"s3", "ls"});
  EXPECT_EQ(ls.rc, 0);
  EXPECT_EQ(ls.out.find("alices"), std::string::npos);
  EXPECT_NE(ok({"s3", "ls", "s3://alices/"}).find(" 4 f\n"), std::string::npos);
}

TEST_F(AwsCliTest, ScopedKeyIsRefusedOutsideItsPrefix) {
  ok({"s3", "mb", "s3://render"});
  const std::string dir = dcloud::testing::makeTempDir();
  writeFile(dir + "/scene", "blend data");
  ok({"s3", "cp", dir + "/scene", "s3://render/inputs/abc.blend"});
  ok({"s3", "cp", dir + "/scene", "s3://render/inputs/secret.blend"});

  ApiClient admin(endpoint(), &*admin_, clock_, random_);
  JsonObject body = new Poco::JSON::Object;
  body->set("principal", alice_->id());
  body->set("bucket", std::string("render"));
  JsonArray grants = new Poco::JSON::Array;
  JsonObject read = new Poco::JSON::Object;
  read->set("access", std::string("read"));
  read->set("prefix", std::string("inputs/abc.blend"));
  JsonObject write = new Poco::JSON::Object;
  write->set("access", std::string("write"));
  write->set("prefix", std::string("jobs/J/"));
  grants->add(read);
  grants->add(write);
  body->set("grants", grants);
  body->set("ttl_seconds", 600);
  Result<JsonObject> issued = admin.call("POST", "/_dcloud/v1/credentials", body);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  SigV4Credentials scoped{(*issued)->getValue<std::string>("access_key"),
                          (*issued)->getValue<std::string>("secret_key")};
  EXPECT_GT((*issued)->getValue<std::int64_t>("expires_at_ms"), clock_.nowMillis());

  writeFile(dir + "/frame", "frame 1");
  EXPECT_EQ(aws(scoped, {"s3", "cp", dir + "/frame", "s3://render/jobs/J/f1.png"}).rc, 0);
  EXPECT_EQ(aws(scoped, {"s3", "cp", "s3://render/inputs/abc.blend", dir + "/in"}).rc, 0);
  EXPECT_EQ(readAll(dir + "/in"), "blend data");
  const std::size_t files_before = dataFiles();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"s3", "cp", dir + "/frame", "s3://render/jobs/K/f1.png"},
        std::vector<std::string>{"s3", "cp", dir + "/frame", "s3://render/inputs/abc.blend"},
        std::vector<std::string>{"s3", "cp", "s3://render/inputs/secret.blend", dir + "/x"},
        std::vector<std::string>{"s3", "rm", "s3://render/inputs/secret.blend"},
        std::vector<std::string>{"s3", "ls", "s3://render/"}, std::vector<std::string>{"s3", "ls"},
        std::vector<std::string>{"s3", "mb", "s3://newbucket"}}) {
    CommandResult r = aws(scoped, args);
    EXPECT_NE(r.rc, 0) << args[1] << " " << args[2];
    EXPECT_TRUE(r.err.find("AccessDenied") != std::string::npos ||
                r.err.find("403") != std::string::npos)
        << args[1] << ": " << r.err;
  }
  EXPECT_EQ(dataFiles(), files_before);
  EXPECT_EQ(ok({"s3", "cp", "s3://render/inputs/abc.blend", "-"}), "blend data");
  const std::string listing = ok({"s3", "ls", "--recursive", "s3://render/"});
  EXPECT_NE(listing.find("inputs/secret.blend"), std::string::npos);
  EXPECT_EQ(listing.find("jobs/K"), std::string::npos);
}

}  // namespace
}  // namespace dcloud::gateway::testing
