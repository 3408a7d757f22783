#pragma once
// MetadataStore on PostgreSQL (schema `gateway`, sql/0002_gateway.sql).

#include <memory>

#include "common/pg.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

class PgMetadataStore final : public MetadataStore {
 public:
  explicit PgMetadataStore(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}

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
  std::shared_ptr<PgPool> pool_;
};

}  // namespace dcloud::gateway
