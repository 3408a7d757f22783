// CachingGatewayAdmin: how often the gateway is asked. The inner admin only counts calls (the
// HTTP admin is covered against the real gateway in the integration tests).
#include <gtest/gtest.h>

#include "scheduler/gateway_admin.h"

namespace dcloud::scheduler {
namespace {

class CountingAdmin final : public GatewayAdmin {
 public:
  Status ensureBucket(const std::string&, const std::string& bucket) override {
    ++bucket_calls;
    if (bucket == "taken") return permissionDenied("bucket belongs to someone else");
    return okStatus();
  }
  Result<ScopedCredentials> credentials(const std::string&, const std::string&,
                                        const std::vector<S3Grant>&,
                                        std::int64_t ttl_seconds) override {
    ++credential_calls;
    return ScopedCredentials{"AK" + std::to_string(credential_calls), "secret",
                             clock->nowMillis() + ttl_seconds * 1000};
  }
  const Clock* clock = nullptr;
  int bucket_calls = 0;
  int credential_calls = 0;
};

TEST(CachingGatewayAdmin, ConfirmedBucketIsRememberedForAMinute) {
  ManualClock clock(1'000'000);
  CountingAdmin inner;
  inner.clock = &clock;
  CachingGatewayAdmin admin(inner, clock);
  ASSERT_TRUE(admin.ensureBucket("alice", "out").ok());
  ASSERT_TRUE(admin.ensureBucket("alice", "out").ok());
  EXPECT_EQ(inner.bucket_calls, 1);
  // Another owner of the same name is a different question.
  ASSERT_TRUE(admin.ensureBucket("bob", "out").ok());
  EXPECT_EQ(inner.bucket_calls, 2);
  clock.advanceMillis(60'000);
  ASSERT_TRUE(admin.ensureBucket("alice", "out").ok());
  EXPECT_EQ(inner.bucket_calls, 3);
}

TEST(CachingGatewayAdmin, RefusedBucketIsNeverRemembered) {
  ManualClock clock(1'000'000);
  CountingAdmin inner;
  inner.clock = &clock;
  CachingGatewayAdmin admin(inner, clock);
  EXPECT_EQ(admin.ensureBucket("alice", "taken").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(admin.ensureBucket("alice", "taken").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(inner.bucket_calls, 2);
}

TEST(CachingGatewayAdmin, CredentialsAreReusedWhileMostOfTheirTtlRemains) {
  ManualClock clock(1'000'000);
  CountingAdmin inner;
  inner.clock = &clock;
  CachingGatewayAdmin admin(inner, clock, 300'000);
  const std::vector<S3Grant> job_a = {{"write", "jobs/a/"}};
  const std::vector<S3Grant> job_b = {{"write", "jobs/b/"}};
  auto first = admin.credentials("p", "out", job_a, 3600);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(admin.credentials("p", "out", job_a, 3600)->access_key, first->access_key);
  // Another scope never shares credentials.
  EXPECT_NE(admin.credentials("p", "out", job_b, 3600)->access_key, first->access_key);
  EXPECT_EQ(inner.credential_calls, 2);
  clock.advanceMillis(300'001);  // less than ttl - window would remain: mint again
  EXPECT_NE(admin.credentials("p", "out", job_a, 3600)->access_key, first->access_key);
  EXPECT_EQ(inner.credential_calls, 3);
}

}  // namespace
}  // namespace dcloud::scheduler
