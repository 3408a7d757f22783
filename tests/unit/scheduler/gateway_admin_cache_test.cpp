// CachingGatewayAdmin: how often the gateway is asked. The inner admin only counts calls (the
// HTTP admin is covered against the real gateway in the integration tests).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

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

// Blocks every mint until released, counting them.
class GatedAdmin final : public GatewayAdmin {
 public:
  Status ensureBucket(const std::string&, const std::string&) override { return okStatus(); }
  Result<ScopedCredentials> credentials(const std::string&, const std::string&,
                                        const std::vector<S3Grant>&, std::int64_t) override {
    const int n = ++calls;
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return open; });
    return ScopedCredentials{"AK" + std::to_string(n), "secret", 1'000'000 + 3'600'000};
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
};

// Polls cond for up to 10 s.
bool eventually(const std::function<bool()>& cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(CachingGatewayAdmin, ConcurrentMissesOfOneScopeShareOneMint) {
  ManualClock clock(1'000'000);
  GatedAdmin inner;
  CachingGatewayAdmin admin(inner, clock);
  const std::vector<S3Grant> job = {{"write", "jobs/a/"}};
  std::vector<std::string> keys(5);
  std::vector<std::thread> leases;
  leases.emplace_back([&] { keys[0] = admin.credentials("p", "out", job, 3600)->access_key; });
  ASSERT_TRUE(eventually([&] { return inner.calls.load() == 1; }));
  for (int i = 1; i < 5; ++i) {
    leases.emplace_back([&, i] { keys[i] = admin.credentials("p", "out", job, 3600)->access_key; });
  }
  // Without sharing, each of the four would be in the gateway by now.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until && inner.calls.load() == 1) {
    std::this_thread::yield();
  }
  EXPECT_EQ(inner.calls.load(), 1);
  inner.release();
  for (auto& t : leases) t.join();
  for (const auto& k : keys) EXPECT_EQ(k, "AK1");
}

TEST(CachingGatewayAdmin, APrefetchMintsInTheBackgroundForTheFirstLease) {
  ManualClock clock(1'000'000);
  GatedAdmin inner;
  inner.release();
  CachingGatewayAdmin admin(inner, clock);
  const std::vector<S3Grant> job = {{"write", "jobs/a/"}};
  admin.prefetchCredentials("p", "out", job, 3600);
  ASSERT_TRUE(eventually([&] { return inner.calls.load() == 1; }));
  auto creds = admin.credentials("p", "out", job, 3600);  // cached, or shares the prefetch
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->access_key, "AK1");
  EXPECT_EQ(inner.calls.load(), 1);
}

TEST(TaskGrants, EachKindGetsItsPrefixes) {
  core::JobSpec render;
  render.kind = core::JobKind::kRender;
  render.scene = "s3://out/scenes/a.blend";
  render.timeout_seconds = 60;
  auto grants = taskGrants(render, "out", "jobs/j/");
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[0].access, "write");
  EXPECT_EQ(grants[0].prefix, "jobs/j/");
  EXPECT_EQ(grants[1].access, "read");
  EXPECT_EQ(grants[1].prefix, "scenes/a.blend");
  EXPECT_EQ(taskCredentialTtlSeconds(render), 660);
  core::JobSpec train;
  train.kind = core::JobKind::kTrain;
  train.checkpoint_prefix = "s3://out/ckpt/";
  grants = taskGrants(train, "out", "jobs/t/");
  ASSERT_EQ(grants.size(), 3u);
  EXPECT_EQ(grants[1].prefix, "ckpt/");
  EXPECT_EQ(grants[2].access, "write");
}

}  // namespace
}  // namespace dcloud::scheduler
