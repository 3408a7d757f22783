#include "storage-gateway/lifecycle_runner.h"

#include <chrono>

#include "storage-gateway/lifecycle_rules.h"
#include "storage-gateway/object_lock.h"

namespace dcloud::gateway {
namespace {

constexpr int kPageSize = 1000;
constexpr int kMaxUploadsPerPass = 10000;

}  // namespace

LifecycleRunner::LifecycleRunner(MetadataStore& metadata, ObjectStore& objects, const Clock& clock,
                                 Random& random)
    : metadata_(metadata), objects_(objects), clock_(clock), random_(random), log_("lifecycle") {}

LifecycleRunner::~LifecycleRunner() {
  stop();
}

void LifecycleRunner::start(int interval_seconds) {
  stop();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this, interval_seconds] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(interval_seconds),
                           [this] { return stopping_; })) {
      lock.unlock();
      Result<LifecycleStats> stats = runOnce();
      if (!stats.ok()) {
        log_.warn("lifecycle pass failed: " + stats.error().toString());
      } else if (stats->expired + stats->versions_removed + stats->uploads_aborted > 0) {
        log_.info("lifecycle pass: expired=" + std::to_string(stats->expired) +
                  " removed=" + std::to_string(stats->versions_removed) +
                  " aborted=" + std::to_string(stats->uploads_aborted) +
                  " locked=" + std::to_string(stats->skipped_locked));
      }
      lock.lock();
    }
  });
}

void LifecycleRunner::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<LifecycleStats> LifecycleRunner::runOnce() {
  Result<std::vector<std::pair<std::string, std::string>>> buckets =
      metadata_.listBucketDocuments("lifecycle");
  if (!buckets.ok()) return buckets.error();
  LifecycleStats stats;
  for (const auto& [bucket, document] : *buckets) {
    ++stats.buckets;
    Status st = runBucket(bucket, document, stats);
    if (!st.ok()) {
      ++stats.errors;
      log_.warn("lifecycle of bucket " + bucket + ": " + st.error().toString());
    }
  }
  return stats;
}

Status LifecycleRunner::runBucket(const std::string& bucket, const std::string& document,
                                  LifecycleStats& stats) {
  Result<LifecycleConfig> config = parseLifecycle(document);
  if (!config.ok()) return config.error();
  const std::int64_t now = clock_.nowMillis();
  auto removeData = [this](const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      Status removed = objects_.remove(id);
      if (!removed.ok()) log_.warn("cannot remove unreferenced data: " + removed.error().message);
    }
  };
  auto remove = [&](const std::string& key, const std::optional<std::string>& version) {
    Result<DeleteOutcome> out =
        metadata_.deleteObject(bucket, key, version, random_.hex(16), now, false);
    if (out.ok()) {
      removeData(out->unreferenced);
      return true;
    }
    if (out.error().reason == "AccessDenied") {
      ++stats.skipped_locked;
    } else {
      ++stats.errors;
      log_.warn("lifecycle delete of " + bucket + "/" + key + ": " + out.error().toString());
    }
    return false;
  };
  auto apply = [&](const std::string& key, const std::vector<LifecycleVersion>& versions) {
    const KeyActions actions = planKeyActions(*config, key, versions, now);
    // Older versions first: a delete marker planned last is only removed once they are gone.
    for (const std::string& version : actions.remove_versions) {
      if (!remove(key, version)) break;
      ++stats.versions_removed;
    }
    if (actions.expire_current && remove(key, std::nullopt)) ++stats.expired;
  };

  // Every version of every key, by key and newest first; a key's versions may span pages.
  // Removals only touch keys already read, so the cursor stays valid.
  VersionCursor cursor{"", false, std::nullopt};
  std::string key;
  std::vector<LifecycleVersion> versions;
  for (;;) {
    Result<std::vector<ObjectRecord>> page =
        metadata_.listObjectVersions(bucket, "", cursor, kPageSize);
    if (!page.ok()) return page.error();
    for (const ObjectRecord& o : *page) {
      if (o.key != key) {
        if (!versions.empty()) apply(key, versions);
        key = o.key;
        versions.clear();
      }
      versions.push_back({o.version_id, o.delete_marker, o.last_modified_ms});
    }
    if (static_cast<int>(page->size()) < kPageSize) break;
    cursor = {page->back().key, false, page->back().seq};
  }
  if (!versions.empty()) apply(key, versions);

  // Uploads can only be due a day after they started.
  Result<std::vector<MultipartUploadRecord>> uploads =
      metadata_.listUploadsInitiatedBefore(bucket, now - kMillisPerDay, kMaxUploadsPerPass);
  if (!uploads.ok()) return uploads.error();
  for (const MultipartUploadRecord& u : *uploads) {
    if (!shouldAbortUpload(*config, u.key, u.created_ms, now)) continue;
    Result<std::vector<std::string>> parts = metadata_.abortUpload(u.upload_id);
    if (!parts.ok()) {
      if (parts.error().code != ErrorCode::kNotFound) ++stats.errors;
      continue;
    }
    removeData(*parts);
    ++stats.uploads_aborted;
  }
  return okStatus();
}

}  // namespace dcloud::gateway
