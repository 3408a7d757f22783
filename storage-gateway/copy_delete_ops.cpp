// CopyObject and DeleteObjects. A copy makes new data that shares the source's chunks (so the
// copy lives on when the source is deleted) and commits like a PUT; a batch delete runs
// DeleteObject per key and reports each key's outcome.

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/sigv4.h"
#include "storage-gateway/body_receiver.h"
#include "storage-gateway/checksums.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/copy_source.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml_bodies.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxDeleteBodyBytes = 2 * 1024 * 1024;
constexpr const char* kDefaultContentType = "binary/octet-stream";

// DeleteObjects must carry Content-MD5 or an x-amz-checksum-* header, and it must match.
Status checkDeleteBodyDigest(const S3Request& req, const AuthContext& auth,
                             const std::string& body) {
  if (auth.payload_mode == PayloadMode::kSha256 && sha256Hex(body) != auth.payload_sha256) {
    return s3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  bool digest = false;
  if (req.hasHeader("content-md5")) {
    Result<std::string> raw = base64Decode(req.header("content-md5"));
    if (!raw.ok() || raw->size() != 16) {
      return s3Error("InvalidDigest", "The Content-MD5 you specified is not valid.");
    }
    Md5 md5;
    md5.update(body);
    if (md5.finish() != *raw) {
      return s3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
    digest = true;
  }
  for (const auto& [name, value] : req.headers) {
    std::optional<ChecksumAlgorithm> algorithm = checksumFromHeader(name);
    if (!algorithm) continue;
    if (checksumBase64(*algorithm, body) != value) {
      return s3Error("BadDigest", "The " + checksumName(*algorithm) +
                                      " you specified did not match the calculated checksum.");
    }
    digest = true;
  }
  if (!digest) {
    return s3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
  }
  return okStatus();
}

}  // namespace

Status copyObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "CopyObject";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<CopySource> source = parseCopySource(req.header("x-amz-copy-source"));
  if (!source.ok()) return source.error();
  const std::string directive =
      req.hasHeader("x-amz-metadata-directive") ? req.header("x-amz-metadata-directive") : "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    return s3Error("InvalidArgument", "Unknown metadata directive.");
  }
  // Tags follow their own directive: the source's by default, x-amz-tagging's with REPLACE.
  const std::string tagging_directive =
      req.hasHeader("x-amz-tagging-directive") ? req.header("x-amz-tagging-directive") : "COPY";
  if (tagging_directive != "COPY" && tagging_directive != "REPLACE") {
    return s3Error("InvalidArgument", "Unknown tagging directive.");
  }
  Result<BucketRecord> source_bucket =
      authorizeBucket(deps, auth, source->bucket, Operation::kGetObject, source->key);
  if (!source_bucket.ok()) return source_bucket.error();
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  if (source->bucket == req.bucket && source->key == req.key && !source->version_id &&
      directive == "COPY") {
    return s3Error("InvalidRequest",
                   "This copy request is illegal because it is trying to copy an object to itself "
                   "without changing the object's metadata, storage class, website redirect "
                   "location or encryption attributes.");
  }
  Result<std::map<std::string, std::string>> meta = userMetadata(req);
  if (!meta.ok()) return meta.error();
  Result<PutCondition> condition = putCondition(req);
  if (!condition.ok()) return condition.error();
  // A copy carries no body to check, so its lock headers need no Content-MD5.
  Result<std::optional<VersionAttributes>> attributes =
      newVersionAttributes(deps, req, req.bucket, true);
  if (!attributes.ok()) return attributes.error();

  Result<ObjectRecord> found = findCopySource(deps, req, *source);
  if (!found.ok()) return found.error();
  if (found->size > kMaxSinglePutBytes) {
    return s3Error("InvalidRequest",
                   "The specified copy source is larger than the maximum allowable size for a "
                   "copy source: 5368709120");
  }
  // Shares the source's chunks within a bucket instead of copying its bytes.
  Result<CopiedData> copied = copyObjectData(deps, *found, req.bucket, 0, found->size);
  if (!copied.ok()) return copied.error();

  ObjectRecord record;
  record.bucket = req.bucket;
  record.key = req.key;
  record.size = found->size;
  record.etag = copied->md5_hex;
  // The bytes are the same, so the source's full-object checksum still holds.
  record.checksum_algorithm = found->checksum_algorithm;
  record.checksum_value = found->checksum_value;
  if (directive == "COPY") {
    record.content_type = found->content_type;
    record.user_metadata = found->user_metadata;
  } else {
    record.content_type =
        req.hasHeader("content-type") ? req.header("content-type") : kDefaultContentType;
    record.user_metadata = std::move(*meta);
  }
  record.attributes = std::move(*attributes);
  if (tagging_directive == "COPY") {
    Result<VersionAttributes> source_attributes =
        found->attributes
            ? Result<VersionAttributes>(*found->attributes)
            : deps.metadata.getVersionAttributes(source->bucket, source->key, found->version_id);
    if (!source_attributes.ok()) return source_attributes.error();
    if (record.attributes) record.attributes->tags.clear();
    if (!source_attributes->tags.empty()) {
      if (!record.attributes) record.attributes = VersionAttributes{};
      record.attributes->tags = source_attributes->tags;
    }
    if (record.attributes && record.attributes->empty()) record.attributes.reset();
  }
  Result<PutOutcome> outcome = commitObject(deps, record, copied->data_id, *condition);
  if (!outcome.ok()) return outcome.error();
  if (source_bucket->versioning != Versioning::kUnversioned || source->version_id) {
    ex.setHeader("x-amz-copy-source-version-id", found->version_id);
  }
  if (bucket->versioning != Versioning::kUnversioned) {
    ex.setHeader("x-amz-version-id", outcome->version_id);
  }
  ex.sendXml(200, copyObjectResultXml(record.etag, record.last_modified_ms));
  return okStatus();
}

Status deleteObjects(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "DeleteObjects";
  if (isStreamingPayload(auth.payload_mode)) {
    return s3Error("NotImplemented", "DeleteObjects takes a plain (not aws-chunked) body.");
  }
  // The bucket's existence and owner; each key's scope is checked below.
  if (!isValidBucketName(req.bucket)) {
    return s3Error("NoSuchBucket", "The specified bucket does not exist");
  }
  Result<BucketRecord> bucket = deps.metadata.getBucket(req.bucket);
  if (!bucket.ok()) return bucket.error();
  if (bucket->owner != auth.principal) return s3Error("AccessDenied", "Access Denied");
  Result<std::string> body = readSmallBody(ex, kMaxDeleteBodyBytes);
  if (!body.ok()) return body.error();
  DCLOUD_TRY(checkDeleteBodyDigest(req, auth, *body));
  Result<DeleteObjectsBody> parsed = parseDeleteObjects(*body);
  if (!parsed.ok()) return parsed.error();

  std::vector<DeleteResultEntry> entries;
  entries.reserve(parsed->objects.size());
  for (const DeleteObjectsBody::Entry& object : parsed->objects) {
    DeleteResultEntry entry;
    entry.key = object.key;
    entry.version_id = object.version_id.value_or("");
    auto fail = [&](const Error& error) {
      const S3ErrorInfo info = s3ErrorInfo(error);
      entry.error_code = info.code;
      entry.error_message = info.code == "InternalError"
                                ? "We encountered an internal error. Please try again."
                                : error.message;
    };
    Status valid = validateObjectKey(object.key);
    if (!valid.ok()) {
      fail(valid.error());
    } else if (!scopeAllows(auth.scope, Operation::kDeleteObject, req.bucket, object.key)) {
      fail(s3Error("AccessDenied", "Access Denied"));
    } else {
      Result<DeleteOutcome> outcome =
          deleteOne(deps, req.bucket, object.key, object.version_id, bypassGovernance(req, auth));
      if (!outcome.ok()) {
        if (outcome.error().code == ErrorCode::kInternal) {
          deps.log.error("delete of " + req.bucket + "/" + object.key +
                         " failed: " + outcome.error().toString());
        }
        fail(outcome.error());
      } else if (outcome->delete_marker) {
        entry.delete_marker = true;
        entry.delete_marker_version_id = outcome->version_id;
      }
    }
    entries.push_back(std::move(entry));
  }
  ex.sendXml(200, deleteResultXml(entries, parsed->quiet));
  return okStatus();
}

}  // namespace dcloud::gateway
