#include "storage-gateway/s3_names.h"

#include <gtest/gtest.h>

#include <string>

namespace dcloud::gateway {
namespace {

TEST(S3NamesTest, BucketNames) {
  struct Case {
    std::string name;
    bool valid;
  };
  const Case cases[] = {
      {"abc", true},
      {"my-bucket.2024", true},
      {std::string(63, 'a'), true},
      {"ab", false},
      {std::string(64, 'a'), false},
      {"MyBucket", false},
      {"-abc", false},
      {"abc-", false},
      {".abc", false},
      {"a..b", false},
      {"a.-b", false},
      {"a-.b", false},
      {"192.168.5.4", false},
      {"under_score", false},
      {"sp ace", false},
      {"", false},
      {"1.2.3", true},
      {"a/b", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(isValidBucketName(c.name), c.valid) << c.name;
    EXPECT_EQ(validateBucketName(c.name).ok(), c.valid) << c.name;
  }
  EXPECT_EQ(validateBucketName("X").error().reason, "InvalidBucketName");
}

TEST(S3NamesTest, ObjectKeys) {
  EXPECT_TRUE(validateObjectKey("a").ok());
  EXPECT_TRUE(validateObjectKey("dir/sub dir/file (1).txt").ok());
  EXPECT_TRUE(
      validateObjectKey("\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80").ok());
  EXPECT_TRUE(validateObjectKey(std::string(1024, 'k')).ok());
  EXPECT_EQ(validateObjectKey(std::string(1025, 'k')).error().reason, "KeyTooLongError");
  EXPECT_EQ(validateObjectKey(std::string("a\0b", 3)).error().reason, "InvalidArgument");
  EXPECT_FALSE(validateObjectKey("").ok());
  EXPECT_FALSE(validateObjectKey("bad\xff").ok());
}

TEST(S3NamesTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("\xe2\x82\xac"));
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(isValidUtf8("\x80"));
}

}  // namespace
}  // namespace dcloud::gateway
