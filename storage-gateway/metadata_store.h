#pragma once
// The gateway's metadata: buckets, objects and access keys. The commit of an object's row is the
// moment the object exists. Implementation: PgMetadataStore (schema `gateway`).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage-gateway/version_attributes.h"

namespace dcloud::gateway {

// A bucket's versioning state; once enabled it can only be suspended, never unversioned again.
enum class Versioning { kUnversioned, kEnabled, kSuspended };

struct BucketRecord {
  std::string name;
  std::string owner;  // principal id
  std::int64_t created_ms = 0;
  Versioning versioning = Versioning::kUnversioned;
};

struct ObjectRecord {
  std::string bucket;
  std::string key;
  std::int64_t size = 0;
  std::string etag;  // md5 hex, no quotes
  std::string content_type;
  std::map<std::string, std::string> user_metadata;  // x-amz-meta-* names (lower case, no prefix)
  std::string data_id;                               // ObjectStore id of the bytes
  std::int64_t last_modified_ms = 0;
  // The additional checksum the client sent ("CRC32", ..., see checksums.h) and its base64
  // value; both empty when none was sent.
  std::string checksum_algorithm;
  std::string checksum_value;
  // Versioning. On a write, version_id is the id to use if the bucket has versioning enabled;
  // the store writes "null" otherwise. On a read, the stored id ("null" in unversioned buckets).
  std::string version_id = "null";
  bool delete_marker = false;  // a delete marker (no data, no etag)
  bool is_latest = true;
  std::int64_t seq = 0;  // order of a key's versions, newest highest
  // Written with a new version (retention, legal hold, tags, ACL) in the same commit. getObject
  // fills it (empty attributes when the version has none); other reads leave it unset
  // (MetadataStore::getVersionAttributes).
  std::optional<VersionAttributes> attributes;
};

struct PutOutcome {
  std::string version_id;                 // the id the new version was stored under
  std::vector<std::string> unreferenced;  // data ids to remove after the commit
};

struct DeleteOutcome {
  std::string version_id;      // of the removed version or the created marker; empty: none
  bool delete_marker = false;  // a marker was created, or the removed version was one
  std::vector<std::string> unreferenced;
};

// Where a version listing continues: keys > key (>= when inclusive); with after_seq, also the
// versions of key itself older than after_seq.
struct VersionCursor {
  std::string key;
  bool inclusive = false;
  std::optional<std::int64_t> after_seq;
};

// Conditions a write must meet at its commit, checked atomically with it.
struct PutCondition {
  bool if_none_match_any = false;       // If-None-Match: * (the key must not exist)
  std::optional<std::string> if_match;  // If-Match: the current object's etag (no quotes)
};

struct AccessKeyRow {
  std::string access_key;
  std::string sealed_secret;  // MasterKey::seal output
  std::string principal;
  std::string display_name;
  std::optional<std::string> scope_json;  // null: full rights of the principal
  std::optional<std::int64_t> expires_at_ms;
  bool revoked = false;
  std::int64_t created_ms = 0;
};

struct MultipartUploadRecord {
  std::string upload_id;
  std::string bucket;
  std::string key;
  std::string principal;
  std::string content_type;
  std::map<std::string, std::string> user_metadata;
  std::int64_t created_ms = 0;
  // What the upload's object gets (tags, ACL, legal hold, and a lock mode given explicitly);
  // empty when CreateMultipartUpload asked for none.
  VersionAttributes attributes;
};

struct PartRecord {
  std::string upload_id;
  int part_number = 0;
  std::int64_t size = 0;
  std::string etag;  // md5 hex of the part
  std::string data_id;
  std::int64_t uploaded_ms = 0;  // 0: not recorded (parts stored before sql/0015)
};

struct CreateBucketOutcome {
  BucketRecord bucket;  // the existing bucket when created is false
  bool created = false;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Creates the bucket unless it exists; never changes an existing bucket's owner.
  virtual Result<CreateBucketOutcome> createBucket(const BucketRecord& bucket) = 0;
  // NotFound if absent.
  virtual Result<BucketRecord> getBucket(const std::string& name) = 0;
  virtual Result<std::vector<BucketRecord>> listBuckets(const std::string& owner) = 0;
  // NotFound if absent, FailedPrecondition if it still holds objects.
  virtual Status deleteBucket(const std::string& name) = 0;
  // NoSuchBucket if absent. Never sets kUnversioned (the caller refuses that).
  virtual Status setBucketVersioning(const std::string& name, Versioning versioning) = 0;

  // The current version. NoSuchKey if the object is absent (or its latest version is a delete
  // marker).
  virtual Result<ObjectRecord> getObject(const std::string& bucket, const std::string& key) = 0;
  // One version, delete markers included. NoSuchVersion if absent.
  virtual Result<ObjectRecord> getObjectVersion(const std::string& bucket, const std::string& key,
                                                const std::string& version_id) = 0;
  // Stores a new current version atomically, following the bucket's versioning: unversioned
  // and suspended buckets replace the "null" version, enabled ones keep the previous version.
  // NoSuchBucket if the bucket does not exist (any more); PreconditionFailed if condition does
  // not hold, checked under the key's lock so concurrent writers cannot race.
  virtual Result<PutOutcome> putObject(const ObjectRecord& object,
                                       const PutCondition& condition) = 0;
  // version_id nullopt: deletes the current object (unversioned bucket) or adds a delete marker
  // (versioned: marker_version_id when enabled, "null" when suspended, dated now_ms). With a
  // version id: removes that version for good (ok if it does not exist); the next newest version
  // becomes current unless it is a delete marker. AccessDenied, checked under the key's lock, if
  // Object Lock protects the version at now_ms (GOVERNANCE yields to bypass_governance).
  virtual Result<DeleteOutcome> deleteObject(const std::string& bucket, const std::string& key,
                                             const std::optional<std::string>& version_id,
                                             const std::string& marker_version_id,
                                             std::int64_t now_ms, bool bypass_governance) = 0;
  // Up to limit objects of bucket whose key starts with prefix and is > from (>= from when
  // inclusive), in byte order of the keys.
  virtual Result<std::vector<ObjectRecord>> listObjects(const std::string& bucket,
                                                        const std::string& prefix,
                                                        const std::string& from, bool inclusive,
                                                        int limit) = 0;
  // Up to limit versions and delete markers under prefix from cursor on, by key and then newest
  // first, with is_latest and seq set.
  virtual Result<std::vector<ObjectRecord>> listObjectVersions(const std::string& bucket,
                                                               const std::string& prefix,
                                                               const VersionCursor& cursor,
                                                               int limit) = 0;

  // Multipart uploads. NoSuchBucket if the bucket is gone.
  virtual Status createUpload(const MultipartUploadRecord& upload) = 0;
  // NoSuchUpload if absent (never started, completed or aborted).
  virtual Result<MultipartUploadRecord> getUpload(const std::string& upload_id) = 0;
  // Inserts or replaces a part; returns the replaced part's data id. NoSuchUpload if the upload
  // is gone.
  virtual Result<std::optional<std::string>> putPart(const PartRecord& part) = 0;
  // The upload's parts by part number.
  virtual Result<std::vector<PartRecord>> listParts(const std::string& upload_id) = 0;
  // In one transaction: commits object (as putObject) and deletes the upload and its parts.
  // unreferenced lists every data id no longer referenced (the parts', a replaced object's).
  // NoSuchUpload if the upload is gone.
  virtual Result<PutOutcome> completeUpload(const std::string& upload_id,
                                            const ObjectRecord& object) = 0;
  // Deletes the upload and its parts; returns the parts' data ids. NoSuchUpload if absent.
  virtual Result<std::vector<std::string>> abortUpload(const std::string& upload_id) = 0;
  // Up to limit uploads of bucket whose key starts with prefix and whose (key, upload id) is
  // greater than (after_key, after_upload_id) (upload ids compared bytewise), in that order.
  virtual Result<std::vector<MultipartUploadRecord>> listUploads(const std::string& bucket,
                                                                 const std::string& prefix,
                                                                 const std::string& after_key,
                                                                 const std::string& after_upload_id,
                                                                 int limit) = 0;

  // AlreadyExists if the access key id is taken.
  virtual Status insertAccessKey(const AccessKeyRow& row) = 0;
  // NotFound if absent (revoked and expired keys are returned; the caller decides).
  virtual Result<AccessKeyRow> getAccessKey(const std::string& access_key) = 0;
  virtual Result<std::vector<AccessKeyRow>> listAccessKeys() = 0;
  // NotFound if absent.
  virtual Status revokeAccessKey(const std::string& access_key) = 0;

  // ---- Bucket configuration and version attributes (pg_bucket_config_store.cpp, sql/0007) ----
  // Bucket configuration documents by kind: "object-lock" (its presence means Object Lock is
  // enabled), "acl", "lifecycle", "cors", "tagging".

  // createBucket, and in the same transaction sets versioning (unless kUnversioned) and stores
  // documents. The documents are only stored when the bucket was created.
  virtual Result<CreateBucketOutcome> createBucketWith(
      const BucketRecord& bucket, const std::map<std::string, std::string>& documents) = 0;
  // Every document of the bucket by kind (empty when none). NoSuchBucket if absent.
  virtual Result<std::map<std::string, std::string>> getBucketDocuments(
      const std::string& bucket) = 0;
  // Stores (body) or deletes (nullopt) one document. NoSuchBucket if absent. Storing
  // "object-lock" needs versioning Enabled (InvalidBucketState).
  virtual Status putBucketDocument(const std::string& bucket, const std::string& kind,
                                   const std::optional<std::string>& body) = 0;
  // (bucket, body) of every bucket holding a document of kind, by bucket name.
  virtual Result<std::vector<std::pair<std::string, std::string>>> listBucketDocuments(
      const std::string& kind) = 0;
  // A version's attributes (empty ones when it has none). NoSuchVersion if the version is absent.
  virtual Result<VersionAttributes> getVersionAttributes(const std::string& bucket,
                                                         const std::string& key,
                                                         const std::string& version_id) = 0;
  // Replaces a version's attributes by what update makes of them, under the key's lock; update
  // may refuse (its error is returned, nothing changes). NoSuchVersion if the version is absent,
  // MethodNotAllowed if it is a delete marker.
  virtual Status updateVersionAttributes(
      const std::string& bucket, const std::string& key, const std::string& version_id,
      const std::function<Status(VersionAttributes&)>& update) = 0;
  // Up to limit multipart uploads of bucket initiated before before_ms, oldest first.
  virtual Result<std::vector<MultipartUploadRecord>> listUploadsInitiatedBefore(
      const std::string& bucket, std::int64_t before_ms, int limit) = 0;
};

}  // namespace dcloud::gateway
