#include "storage-gateway/access_scope.h"

#include <gtest/gtest.h>

namespace dcloud::gateway {
namespace {

AccessScope jobScope() {
  return AccessScope{"art", {{Access::kRead, "inputs/abc.blend"}, {Access::kWrite, "jobs/J/"}}};
}

TEST(AccessScopeTest, UnscopedKeysMayDoAnything) {
  for (Operation op : {Operation::kListBuckets, Operation::kCreateBucket, Operation::kPutObject}) {
    EXPECT_TRUE(scopeAllows(std::nullopt, op, "any", "key"));
  }
}

TEST(AccessScopeTest, Table) {
  struct Case {
    Operation op;
    std::string bucket;
    std::string key;
    bool allowed;
  };
  const Case cases[] = {
      {Operation::kGetObject, "art", "inputs/abc.blend", true},
      {Operation::kGetObject, "art", "inputs/abc.blend.bak", true},  // prefix semantics
      {Operation::kGetObject, "art", "inputs/other.blend", false},
      {Operation::kGetObject, "art", "jobs/J/frame1.png", false},  // write does not imply read
      {Operation::kPutObject, "art", "jobs/J/frame1.png", true},
      {Operation::kDeleteObject, "art", "jobs/J/frame1.png", true},
      {Operation::kPutObject, "art", "jobs/K/frame1.png", false},
      {Operation::kPutObject, "art", "jobs/J", false},
      {Operation::kPutObject, "art", "inputs/abc.blend", false},
      {Operation::kPutObject, "other", "jobs/J/frame1.png", false},
      {Operation::kListObjects, "art", "inputs/abc", false},  // wider than the grant
      {Operation::kListObjects, "art", "inputs/abc.blend", true},
      {Operation::kListObjects, "art", "", false},
      {Operation::kHeadBucket, "art", "", true},
      {Operation::kHeadBucket, "other", "", false},
      {Operation::kListBuckets, "", "", false},
      {Operation::kCreateBucket, "art", "", false},
      {Operation::kDeleteBucket, "art", "", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(scopeAllows(jobScope(), c.op, c.bucket, c.key), c.allowed)
        << operationName(c.op) << " " << c.bucket << "/" << c.key;
  }
}

TEST(AccessScopeTest, EmptyPrefixGrantsTheWholeBucket) {
  AccessScope scope{"b", {{Access::kRead, ""}}};
  EXPECT_TRUE(scopeAllows(scope, Operation::kListObjects, "b", ""));
  EXPECT_TRUE(scopeAllows(scope, Operation::kGetObject, "b", "x/y"));
  EXPECT_FALSE(scopeAllows(scope, Operation::kPutObject, "b", "x/y"));
}

TEST(AccessScopeTest, JsonRoundTrip) {
  Result<AccessScope> parsed = parseAccessScope(accessScopeJson(jobScope()));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->bucket, "art");
  ASSERT_EQ(parsed->grants.size(), 2u);
  EXPECT_EQ(parsed->grants[1].access, Access::kWrite);
  EXPECT_EQ(parsed->grants[1].prefix, "jobs/J/");
}

TEST(AccessScopeTest, RejectsMalformedJson) {
  for (const char* bad : {
           R"({"bucket": "art", "grants": [{"access": "admin", "prefix": ""}]})",
           R"({"bucket": "Bad_Name", "grants": []})",
           R"({"bucket": "art", "grants": [{"access": "read"}]})",
           R"({"bucket": "art", "grants": [{"access": "read", "prefix": "", "x": 1}]})",
           R"({"bucket": "art", "extra": true})",
           R"({"grants": []})",
           R"([1, 2])",
       }) {
    EXPECT_FALSE(parseAccessScope(std::string(bad)).ok()) << bad;
  }
}

}  // namespace
}  // namespace dcloud::gateway
