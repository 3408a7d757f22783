#pragma once
// The scheduler's view of the storage gateway's admin API: make sure an owner's bucket exists, and
// mint short-lived S3 credentials limited to one job's input and output prefixes.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "scheduler/core/job_spec.h"

namespace dcloud::scheduler {

struct S3Grant {
  std::string access;  // "read" or "write"
  std::string prefix;
};

struct ScopedCredentials {
  std::string access_key;
  std::string secret_key;
  std::int64_t expires_at_ms = 0;
};

// What a task of this job may touch in the owner's bucket (its output prefix, a render's scene, a
// training job's checkpoints), and for how long: the same for every task of the job.
std::vector<S3Grant> taskGrants(const core::JobSpec& spec, const std::string& output_bucket,
                                const std::string& output_prefix);
std::int64_t taskCredentialTtlSeconds(const core::JobSpec& spec);

class GatewayAdmin {
 public:
  virtual ~GatewayAdmin() = default;
  // PermissionDenied when the bucket belongs to someone else.
  virtual Status ensureBucket(const std::string& owner, const std::string& bucket) = 0;
  virtual Result<ScopedCredentials> credentials(const std::string& principal,
                                                const std::string& bucket,
                                                const std::vector<S3Grant>& grants,
                                                std::int64_t ttl_seconds) = 0;
  // A hint that credentials() will soon be asked for this scope: an admin that caches may mint
  // them now, in the background. By default nothing happens.
  virtual void prefetchCredentials(const std::string& principal, const std::string& bucket,
                                   const std::vector<S3Grant>& grants, std::int64_t ttl_seconds) {
    (void)principal, (void)bucket, (void)grants, (void)ttl_seconds;
  }
};

class HttpGatewayAdmin final : public GatewayAdmin {
 public:
  explicit HttpGatewayAdmin(ApiClient client) : client_(std::move(client)) {}
  Status ensureBucket(const std::string& owner, const std::string& bucket) override;
  Result<ScopedCredentials> credentials(const std::string& principal, const std::string& bucket,
                                        const std::vector<S3Grant>& grants,
                                        std::int64_t ttl_seconds) override;

 private:
  ApiClient client_;
};

// Reuses credentials minted for the same principal, bucket, grants and ttl while they remain
// valid for most of the ttl asked for (at least ttl minus reuse_window_ms): every task of a job has
// the same scope, so the gateway mints once per job every few minutes instead of once per lease,
// which keeps it off the lease path. expires_at_ms is compared with `clock`; the gateway's clock
// must roughly agree (both are wall clocks in production).
class CachingGatewayAdmin final : public GatewayAdmin {
 public:
  CachingGatewayAdmin(GatewayAdmin& inner, const Clock& clock,
                      std::int64_t reuse_window_ms = 300'000)
      : inner_(inner), clock_(clock), reuse_window_ms_(reuse_window_ms) {}
  // Finishes the prefetch in progress; the queued ones are dropped.
  ~CachingGatewayAdmin() override;
  CachingGatewayAdmin(const CachingGatewayAdmin&) = delete;
  CachingGatewayAdmin& operator=(const CachingGatewayAdmin&) = delete;
  // Remembers a bucket the gateway confirmed for kBucketMemoryMs: every submit asks, and the
  // owner's bucket rarely changes (a deleted one is recreated on the next submit after that).
  Status ensureBucket(const std::string& owner, const std::string& bucket) override;
  // Concurrent misses of one scope (the first leases of a job) share one mint.
  Result<ScopedCredentials> credentials(const std::string& principal, const std::string& bucket,
                                        const std::vector<S3Grant>& grants,
                                        std::int64_t ttl_seconds) override;
  // Mints on a background thread (a submit calls it, so the job's first lease finds them cached);
  // at most kMaxPrefetches wait, more are dropped (the lease mints then).
  void prefetchCredentials(const std::string& principal, const std::string& bucket,
                           const std::vector<S3Grant>& grants, std::int64_t ttl_seconds) override;

 private:
  struct Flight {
    std::optional<Result<ScopedCredentials>> result;
  };
  struct Prefetch {
    std::string principal, bucket;
    std::vector<S3Grant> grants;
    std::int64_t ttl_seconds = 0;
  };
  static constexpr std::size_t kMaxPrefetches = 1000;
  void prefetchLoop();
  GatewayAdmin& inner_;
  const Clock& clock_;
  std::int64_t reuse_window_ms_;
  static constexpr std::int64_t kBucketMemoryMs = 60'000;
  std::mutex mutex_;
  std::condition_variable landed_;  // a flight landed, or a prefetch was queued
  std::map<std::string, ScopedCredentials> cache_;
  std::map<std::string, std::shared_ptr<Flight>> in_flight_;
  std::map<std::string, std::int64_t> buckets_confirmed_at_;  // "owner\nbucket" -> clock ms
  std::deque<Prefetch> prefetches_;
  bool stopping_ = false;
  std::thread prefetcher_;  // started by the first prefetch
};

}  // namespace dcloud::scheduler
