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

}  // namespace
}  // namespace dcloud::gateway
