#pragma once
// MetadataStore on PostgreSQL (schema `gateway`, sql/0002_gateway.sql).
// Access keys, bucket rows and bucket documents are read on almost every request and change
// rarely: they are cached in memory (metadata_cache.h). A change made through this store is seen
// by its next read; one made elsewhere (another process, e.g. `keys revoke`) within cache_ms.

#include <map>
#include <memory>

#include "common/clock.h"
#include "common/pg.h"
#include "storage-gateway/metadata_cache.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

class PgMetadataStore final : public MetadataStore {
 public:
  static constexpr std::int64_t kDefaultCacheMillis = 1000;

  // cache_ms <= 0 turns the cache off.
  explicit PgMetadataStore(std::shared_ptr<PgPool> pool,
                           const Clock& clock = SystemClock::instance(),
                           std::int64_t cache_ms = kDefaultCacheMillis)
      : pool_(std::move(pool)),
        buckets_(clock, cache_ms),
        documents_(clock, cache_ms),
        keys_(clock, cache_ms) {}

  Result<CreateBucketOutcome> createBucket(const BucketRecord& bucket) override;
  Result<BucketRecord> getBucket(const std::string& name) override;
  Result<std::vector<BucketRecord>> listBuckets(const std::string& owner) override;
  Status deleteBucket(const std::string& name) override;
  Status setBucketVersioning(const std::string& name, Versioning versioning) override;

  Result<ObjectRecord> getObject(const std::string& bucket, const std::string& key) override;
  Result<ObjectRecord> getObjectVersion(const std::string& bucket, const std::string& key,
                                        const std::string& version_id) override;
  Result<PutOutcome> putObject(const ObjectRecord& object, const PutCondition& condition) override;
  Result<DeleteOutcome> deleteObject(const std::string& bucket, const std::string& key,
                                     const std::optional<std::string>& version_id,
                                     const std::string& marker_version_id, std::int64_t now_ms,
                                     bool bypass_governance) override;
  Result<std::vector<ObjectRecord>> listObjects(const std::string& bucket,
                                                const std::string& prefix, const std::string& from,
                                                bool inclusive, int limit) override;
  Result<std::vector<ObjectRecord>> listObjectVersions(const std::string& bucket,
                                                       const std::string& prefix,
                                                       const VersionCursor& cursor,
                                                       int limit) override;

  Status createUpload(const MultipartUploadRecord& upload) override;
  Result<MultipartUploadRecord> getUpload(const std::string& upload_id) override;
  Result<std::optional<std::string>> putPart(const PartRecord& part) override;
  Result<std::vector<PartRecord>> listParts(const std::string& upload_id) override;
  Result<PutOutcome> completeUpload(const std::string& upload_id,
                                    const ObjectRecord& object) override;
  Result<std::vector<std::string>> abortUpload(const std::string& upload_id) override;
  // In pg_upload_listing.cpp.
  Result<std::vector<MultipartUploadRecord>> listUploads(const std::string& bucket,
                                                         const std::string& prefix,
                                                         const std::string& after_key,
                                                         const std::string& after_upload_id,
                                                         int limit) override;

  Status insertAccessKey(const AccessKeyRow& row) override;
  Result<AccessKeyRow> getAccessKey(const std::string& access_key) override;
  Result<std::vector<AccessKeyRow>> listAccessKeys() override;
  Status revokeAccessKey(const std::string& access_key) override;

  // Bucket configuration and version attributes (pg_bucket_config_store.cpp).
  Result<CreateBucketOutcome> createBucketWith(
      const BucketRecord& bucket, const std::map<std::string, std::string>& documents) override;
  Result<std::map<std::string, std::string>> getBucketDocuments(const std::string& bucket) override;
  Status putBucketDocument(const std::string& bucket, const std::string& kind,
                           const std::optional<std::string>& body) override;
  Result<std::vector<std::pair<std::string, std::string>>> listBucketDocuments(
      const std::string& kind) override;
  Result<VersionAttributes> getVersionAttributes(const std::string& bucket, const std::string& key,
                                                 const std::string& version_id) override;
  Status updateVersionAttributes(const std::string& bucket, const std::string& key,
                                 const std::string& version_id,
                                 const std::function<Status(VersionAttributes&)>& update) override;
  Result<std::vector<MultipartUploadRecord>> listUploadsInitiatedBefore(const std::string& bucket,
                                                                        std::int64_t before_ms,
                                                                        int limit) override;

 private:
  Result<BucketRecord> readBucket(const std::string& name);
  Result<std::map<std::string, std::string>> readBucketDocuments(const std::string& bucket);
  Result<AccessKeyRow> readAccessKey(const std::string& access_key);
  // After a committed change to a bucket (its row or documents).
  void bucketChanged(const std::string& name) {
    buckets_.invalidate(name);
    documents_.invalidate(name);
  }

  std::shared_ptr<PgPool> pool_;
  MetadataCache<BucketRecord> buckets_;
  MetadataCache<std::map<std::string, std::string>> documents_;
  MetadataCache<AccessKeyRow> keys_;
};

}  // namespace dcloud::gateway
