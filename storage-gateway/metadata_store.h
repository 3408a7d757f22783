#pragma once
// The gateway's metadata: buckets, objects and access keys. The commit of an object's row is the
// moment the object exists. Implementation: PgMetadataStore (schema `gateway`).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

struct BucketRecord {
  std::string name;
  std::string owner;  // principal id
  std::int64_t created_ms = 0;
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
};

struct PartRecord {
  std::string upload_id;
  int part_number = 0;
  std::int64_t size = 0;
  std::string etag;  // md5 hex of the part
  std::string data_id;
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

  // NotFound if the object is absent.
  virtual Result<ObjectRecord> getObject(const std::string& bucket, const std::string& key) = 0;
  // Inserts or replaces atomically; returns the data id the object had before (to remove after
  // the commit). NotFound if the bucket does not exist (any more); PreconditionFailed (reason)
  // if condition does not hold, checked under the key's lock so concurrent writers cannot race.
  virtual Result<std::optional<std::string>> putObject(const ObjectRecord& object,
                                                       const PutCondition& condition) = 0;
  // Returns the removed object's data id, nullopt if there was none.
  virtual Result<std::optional<std::string>> deleteObject(const std::string& bucket,
                                                          const std::string& key) = 0;
  // Up to limit objects of bucket whose key starts with prefix and is > from (>= from when
  // inclusive), in byte order of the keys.
  virtual Result<std::vector<ObjectRecord>> listObjects(const std::string& bucket,
                                                        const std::string& prefix,
                                                        const std::string& from, bool inclusive,
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
  // Returns every data id that is no longer referenced (the parts', the replaced object's).
  // NoSuchUpload if the upload is gone.
  virtual Result<std::vector<std::string>> completeUpload(const std::string& upload_id,
                                                          const ObjectRecord& object) = 0;
  // Deletes the upload and its parts; returns the parts' data ids. NoSuchUpload if absent.
  virtual Result<std::vector<std::string>> abortUpload(const std::string& upload_id) = 0;

  // AlreadyExists if the access key id is taken.
  virtual Status insertAccessKey(const AccessKeyRow& row) = 0;
  // NotFound if absent (revoked and expired keys are returned; the caller decides).
  virtual Result<AccessKeyRow> getAccessKey(const std::string& access_key) = 0;
  virtual Result<std::vector<AccessKeyRow>> listAccessKeys() = 0;
  // NotFound if absent.
  virtual Status revokeAccessKey(const std::string& access_key) = 0;
};

}  // namespace dcloud::gateway
