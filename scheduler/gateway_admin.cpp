#include "scheduler/gateway_admin.h"

#include <algorithm>
#include <iterator>

namespace dcloud::scheduler {

Status HttpGatewayAdmin::ensureBucket(const std::string& owner, const std::string& bucket) {
  JsonObject body = new Poco::JSON::Object;
  body->set("owner", owner);
  body->set("bucket", bucket);
  auto r = client_.call("POST", "/_dcloud/v1/buckets", body, 10000);
  if (!r.ok()) {
    Error e = r.error();
    e.message = "storage gateway: " + e.message;
    return e;
  }
  return okStatus();
}

Result<ScopedCredentials> HttpGatewayAdmin::credentials(const std::string& principal,
                                                        const std::string& bucket,
                                                        const std::vector<S3Grant>& grants,
                                                        std::int64_t ttl_seconds) {
  JsonObject body = new Poco::JSON::Object;
  body->set("principal", principal);
  body->set("bucket", bucket);
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& g : grants) {
    JsonObject o = new Poco::JSON::Object;
    o->set("access", g.access);
    o->set("prefix", g.prefix);
    list->add(o);
  }
  body->set("grants", list);
  body->set("ttl_seconds", ttl_seconds);
  auto r = client_.call("POST", "/_dcloud/v1/credentials", body, 10000);
  if (!r.ok()) {
    Error e = r.error();
    e.message = "storage gateway: " + e.message;
    return e;
  }
  ScopedCredentials out;
  auto ak = getString(*r, "access_key");
  auto sk = getString(*r, "secret_key");
  auto exp = getOptionalInt(*r, "expires_at_ms");
  if (!ak.ok() || !sk.ok()) return internalError("storage gateway sent no credentials");
  out.access_key = *ak;
  out.secret_key = *sk;
  out.expires_at_ms = exp.ok() ? exp->value_or(0) : 0;
  return out;
}

Status CachingGatewayAdmin::ensureBucket(const std::string& owner, const std::string& bucket) {
  const std::string key = owner + "\n" + bucket;
  {
    std::lock_guard lock(mutex_);
    auto it = buckets_confirmed_at_.find(key);
    if (it != buckets_confirmed_at_.end() && clock_.nowMillis() - it->second < kBucketMemoryMs) {
      return okStatus();
    }
  }
  Status st = inner_.ensureBucket(owner, bucket);
  if (!st.ok()) return st;
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_.nowMillis();
  if (buckets_confirmed_at_.size() >= 10'000) {
    for (auto it = buckets_confirmed_at_.begin(); it != buckets_confirmed_at_.end();) {
      it = now - it->second >= kBucketMemoryMs ? buckets_confirmed_at_.erase(it) : std::next(it);
    }
  }
  buckets_confirmed_at_[key] = now;
  return okStatus();
}

Result<ScopedCredentials> CachingGatewayAdmin::credentials(const std::string& principal,
                                                           const std::string& bucket,
                                                           const std::vector<S3Grant>& grants,
                                                           std::int64_t ttl_seconds) {
  std::string key = principal + "\n" + bucket + "\n" + std::to_string(ttl_seconds);
  for (const auto& g : grants) key += "\n" + g.access + " " + g.prefix;
  const std::int64_t window = std::min(reuse_window_ms_, ttl_seconds * 1000 / 2);
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mutex_);
    const std::int64_t now = clock_.nowMillis();
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires_at_ms - now >= ttl_seconds * 1000 - window) {
      return it->second;
    }
    auto f = in_flight_.find(key);
    if (f != in_flight_.end()) {
      // Another lease (or a prefetch) is minting this scope: take what it gets.
      std::shared_ptr<Flight> theirs = f->second;
      landed_.wait(lock, [&] { return theirs->result.has_value(); });
      return *theirs->result;
    }
    flight = std::make_shared<Flight>();
    in_flight_.emplace(key, flight);
  }
  // Minted outside the lock: a slow gateway must not stall leases of other jobs.
  auto minted = inner_.credentials(principal, bucket, grants, ttl_seconds);
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_.nowMillis();
  if (minted.ok() && minted->expires_at_ms > 0) {
    if (cache_.size() >= 10'000) {
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = it->second.expires_at_ms <= now ? cache_.erase(it) : std::next(it);
      }
    }
    cache_[key] = *minted;
  }
  flight->result = minted;
  in_flight_.erase(key);
  landed_.notify_all();
  return minted;
}

void CachingGatewayAdmin::prefetchCredentials(const std::string& principal,
                                              const std::string& bucket,
                                              const std::vector<S3Grant>& grants,
                                              std::int64_t ttl_seconds) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || prefetches_.size() >= kMaxPrefetches) return;
    prefetches_.push_back({principal, bucket, grants, ttl_seconds});
    if (!prefetcher_.joinable()) prefetcher_ = std::thread([this] { prefetchLoop(); });
  }
  landed_.notify_all();
}

void CachingGatewayAdmin::prefetchLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    landed_.wait(lock, [&] { return stopping_ || !prefetches_.empty(); });
    if (stopping_) return;
    Prefetch p = std::move(prefetches_.front());
    prefetches_.pop_front();
    lock.unlock();
    // A failure is not an error here: the lease asks again and reports it.
    (void)credentials(p.principal, p.bucket, p.grants, p.ttl_seconds);
    lock.lock();
  }
}

CachingGatewayAdmin::~CachingGatewayAdmin() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  landed_.notify_all();
  if (prefetcher_.joinable()) prefetcher_.join();
}

std::vector<S3Grant> taskGrants(const core::JobSpec& spec, const std::string& output_bucket,
                                const std::string& output_prefix) {
  std::vector<S3Grant> grants{{"write", output_prefix}};
  const std::string bucket_url = "s3://" + output_bucket + "/";
  if (spec.kind == core::JobKind::kRender) {
    grants.push_back({"read", spec.scene.substr(std::min(bucket_url.size(), spec.scene.size()))});
  }
  // A train task reads its last checkpoint and writes new ones (submit checked the bucket).
  if (!spec.checkpoint_prefix.empty() && spec.checkpoint_prefix.rfind(bucket_url, 0) == 0) {
    const std::string prefix = spec.checkpoint_prefix.substr(bucket_url.size());
    grants.push_back({"read", prefix});
    grants.push_back({"write", prefix});
  }
  return grants;
}

std::int64_t taskCredentialTtlSeconds(const core::JobSpec& spec) {
  // The task's whole timeout, and time to upload what it wrote.
  return spec.timeout_seconds + 600;
}

}  // namespace dcloud::scheduler
