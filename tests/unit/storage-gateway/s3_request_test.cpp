#include "storage-gateway/s3_request.h"

#include <gtest/gtest.h>

namespace dcloud::gateway {
namespace {

TEST(S3RequestTest, SplitsBucketKeyAndQuery) {
  Result<S3Request> r = parseS3Request(
      "GET", "/bucket/dir/my%20file%E2%82%AC.txt?list-type=2&prefix=a%2Fb&uploads", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bucket, "bucket");
  EXPECT_EQ(r->key, "dir/my file\xe2\x82\xac.txt");
  EXPECT_EQ(r->raw_path, "/bucket/dir/my%20file%E2%82%AC.txt");
  EXPECT_EQ(r->raw_query, "list-type=2&prefix=a%2Fb&uploads");
  EXPECT_EQ(r->queryValue("prefix"), std::optional<std::string>("a/b"));
  EXPECT_TRUE(r->hasQuery("uploads"));
  EXPECT_FALSE(r->hasQuery("marker"));
}

TEST(S3RequestTest, ServiceAndBucketLevel) {
  Result<S3Request> root = parseS3Request("GET", "/", {});
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->bucket.empty());
  Result<S3Request> bucket = parseS3Request("PUT", "/b1/", {});
  ASSERT_TRUE(bucket.ok());
  EXPECT_EQ(bucket->bucket, "b1");
  EXPECT_TRUE(bucket->key.empty());
}

TEST(S3RequestTest, KeepsEncodedNul) {
  Result<S3Request> r = parseS3Request("PUT", "/b/a%00b", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key, std::string("a\0b", 3));
}

TEST(S3RequestTest, RejectsBadEscapes) {
  EXPECT_EQ(parseS3Request("GET", "/b/a%zz", {}).error().reason, "InvalidURI");
  EXPECT_FALSE(parseS3Request("GET", "/b?x=%4", {}).ok());
  EXPECT_FALSE(parseS3Request("GET", "http://x/b", {}).ok());
}

TEST(S3RequestTest, VirtualHostStyle) {
  const std::vector<std::string> domains = {"s3.example.test", "other.test"};
  Result<S3Request> r = parseS3Request("GET", "/dir/a%20b?versions",
                                       {{"host", "My.Bucket.S3.Example.Test:9000"}}, domains);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bucket, "my.bucket");
  EXPECT_EQ(r->key, "dir/a b");
  EXPECT_EQ(r->raw_path, "/dir/a%20b");  // the canonical URI is the path as sent
  EXPECT_TRUE(r->hasQuery("versions"));
  Result<S3Request> bucket = parseS3Request("PUT", "/", {{"host", "b1.other.test."}}, domains);
  ASSERT_TRUE(bucket.ok());
  EXPECT_EQ(bucket->bucket, "b1");
  EXPECT_TRUE(bucket->key.empty());
  Result<S3Request> slashes = parseS3Request("PUT", "//x/", {{"host", "b1.other.test"}}, domains);
  ASSERT_TRUE(slashes.ok());
  EXPECT_EQ(slashes->key, "/x/");
  // The bare domain, IP hosts and unknown names stay path style.
  for (const char* host : {"s3.example.test:80", "127.0.0.1:9000", "[::1]:9000", "b.example.test",
                           "xs3.example.test", ".s3.example.test"}) {
    Result<S3Request> path = parseS3Request("GET", "/b2/k", {{"host", host}}, domains);
    ASSERT_TRUE(path.ok()) << host;
    EXPECT_EQ(path->bucket, "b2") << host;
    EXPECT_EQ(path->key, "k") << host;
  }
  EXPECT_EQ(parseS3Request("GET", "/k%zz", {{"host", "b.other.test"}}, domains).error().reason,
            "InvalidURI");
  EXPECT_EQ(parseS3Request("GET", "/b/k", {{"host", "b.other.test"}}, {})->bucket, "b");
}

TEST(S3RequestTest, SplitsDomainOptions) {
  EXPECT_EQ(splitDomains({"S3.Example.Test, other.test.", "", ",x.test,"}),
            (std::vector<std::string>{"s3.example.test", "other.test", "x.test"}));
  EXPECT_EQ(virtualHostBucket("a.b.x.test:1", {"x.test"}), std::optional<std::string>("a.b"));
  EXPECT_EQ(virtualHostBucket("x.test", {"x.test"}), std::nullopt);
  EXPECT_EQ(virtualHostBucket("a:b:c.x.test", {"x.test"}), std::nullopt);
}

}  // namespace
}  // namespace dcloud::gateway
