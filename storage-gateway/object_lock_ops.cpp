// Object Lock: Put/GetObjectLockConfiguration, Put/GetObjectRetention, Put/GetObjectLegalHold,
// and what PutObject, GET/HEAD, CreateBucket and PutBucketVersioning ask of it. The rule that
// counts (a protected version is never removed or overwritten) is enforced again inside the
// metadata store's commit, under the key's lock (pg_bucket_config_store.h).

#include "common/crypto.h"
#include "storage-gateway/bucket_config.h"
#include "storage-gateway/checksums.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/object_lock.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxConfigBodyBytes = 64 * 1024;

Error missingDigest() {
  return s3Error("InvalidRequest",
                 "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
                 "with Object Lock parameters");
}

Error noLockConfiguration() {
  return s3Error("InvalidRequest", "Bucket is missing Object Lock Configuration");
}

// The version a ?retention / ?legal-hold / ?tagging / ?acl request on a key means.
Result<std::string> targetVersion(S3Deps& deps, const S3Request& req) {
  if (std::optional<std::string> v = req.queryValue("versionId")) return *v;
  Result<ObjectRecord> current = deps.metadata.getObject(req.bucket, req.key);
  if (!current.ok()) return current.error();
  return current->version_id;
}

Result<std::optional<ObjectLockConfig>> lockConfig(S3Deps& deps, const std::string& bucket) {
  using Out = std::optional<ObjectLockConfig>;
  Result<std::map<std::string, std::string>> docs = deps.metadata.getBucketDocuments(bucket);
  if (!docs.ok()) return docs.error();
  auto it = docs->find("object-lock");
  if (it == docs->end()) return Out{};
  Result<ObjectLockConfig> config = parseObjectLockConfig(it->second);
  if (!config.ok()) return internalError("stored object lock configuration is unreadable");
  return Out{*config};
}

// The version a ?retention / ?legal-hold request acts on; InvalidRequest unless the bucket has
// Object Lock.
Result<std::string> lockedVersion(S3Deps& deps, const S3Request& req) {
  Result<std::optional<ObjectLockConfig>> config = lockConfig(deps, req.bucket);
  if (!config.ok()) return config.error();
  if (!config->has_value()) return noLockConfiguration();
  return targetVersion(deps, req);
}

Status putLockConfiguration(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth) {
  ex.record().operation = "PutObjectLockConfiguration";
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kDeleteBucket, "");
  if (!bucket.ok()) return bucket.error();
  Result<std::string> body = readConfigBody(ex, req, auth);
  if (!body.ok()) return body.error();
  Result<ObjectLockConfig> config = parseObjectLockConfig(*body);
  if (!config.ok()) return config.error();
  DCLOUD_TRY(
      deps.metadata.putBucketDocument(req.bucket, "object-lock", objectLockConfigXml(*config)));
  ex.sendEmpty(200);
  return okStatus();
}

Status getLockConfiguration(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth) {
  ex.record().operation = "GetObjectLockConfiguration";
  Result<BucketRecord> bucket = authorizeBucket(deps, auth, req.bucket, Operation::kHeadBucket, "");
  if (!bucket.ok()) return bucket.error();
  Result<std::optional<ObjectLockConfig>> config = lockConfig(deps, req.bucket);
  if (!config.ok()) return config.error();
  if (!config->has_value()) {
    return s3Error("ObjectLockConfigurationNotFoundError",
                   "Object Lock configuration does not exist for this bucket");
  }
  ex.sendXml(200, objectLockConfigXml(**config));
  return okStatus();
}

Status putRetention(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "PutObjectRetention";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::string> body = readConfigBody(ex, req, auth);
  if (!body.ok()) return body.error();
  Result<Retention> retention = parseRetention(*body);
  if (!retention.ok()) return retention.error();
  Result<std::string> version = lockedVersion(deps, req);
  if (!version.ok()) return version.error();
  const std::int64_t now = deps.clock.nowMillis();
  const bool bypass = bypassGovernance(req, auth);
  DCLOUD_TRY(deps.metadata.updateVersionAttributes(
      req.bucket, req.key, *version, [&](VersionAttributes& a) -> Status {
        DCLOUD_TRY(checkRetentionChange(a, *retention, now, bypass));
        a.lock_mode = retention->mode;
        a.retain_until_ms = retention->retain_until_ms;
        return okStatus();
      }));
  ex.sendEmpty(200);
  return okStatus();
}

Status getRetention(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "GetObjectRetention";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kGetObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::string> version = lockedVersion(deps, req);
  if (!version.ok()) return version.error();
  Result<VersionAttributes> a = deps.metadata.getVersionAttributes(req.bucket, req.key, *version);
  if (!a.ok()) return a.error();
  if (a->lock_mode.empty()) {
    return s3Error("NoSuchObjectLockConfiguration",
                   "The specified object does not have a ObjectLock configuration");
  }
  ex.sendXml(200, retentionXml(*a));
  return okStatus();
}

Status putLegalHold(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "PutObjectLegalHold";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::string> body = readConfigBody(ex, req, auth);
  if (!body.ok()) return body.error();
  Result<bool> on = parseLegalHold(*body);
  if (!on.ok()) return on.error();
  Result<std::string> version = lockedVersion(deps, req);
  if (!version.ok()) return version.error();
  DCLOUD_TRY(deps.metadata.updateVersionAttributes(req.bucket, req.key, *version,
                                                   [&](VersionAttributes& a) -> Status {
                                                     a.legal_hold = *on;
                                                     return okStatus();
                                                   }));
  ex.sendEmpty(200);
  return okStatus();
}

Status getLegalHold(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "GetObjectLegalHold";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kGetObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::string> version = lockedVersion(deps, req);
  if (!version.ok()) return version.error();
  Result<VersionAttributes> a = deps.metadata.getVersionAttributes(req.bucket, req.key, *version);
  if (!a.ok()) return a.error();
  ex.sendXml(200, legalHoldXml(a->legal_hold));
  return okStatus();
}

}  // namespace

Status objectLockOperation(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth) {
  const Error not_allowed =
      s3Error("MethodNotAllowed", "The specified method is not allowed against this resource.");
  const std::string& m = req.method;
  if (req.hasQuery("object-lock")) {
    if (!req.key.empty()) return not_allowed;
    if (m == "PUT") return putLockConfiguration(deps, ex, req, auth);
    if (m == "GET") return getLockConfiguration(deps, ex, req, auth);
    return not_allowed;
  }
  if (req.key.empty()) return not_allowed;
  if (req.hasQuery("retention")) {
    if (m == "PUT") return putRetention(deps, ex, req, auth);
    if (m == "GET") return getRetention(deps, ex, req, auth);
    return not_allowed;
  }
  if (m == "PUT") return putLegalHold(deps, ex, req, auth);
  if (m == "GET") return getLegalHold(deps, ex, req, auth);
  return not_allowed;
}

Result<std::string> readConfigBody(S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  if (isStreamingPayload(auth.payload_mode)) {
    return s3Error("NotImplemented", "This operation takes a plain (not aws-chunked) body.");
  }
  Result<std::string> body = readSmallBody(ex, kMaxConfigBodyBytes);
  if (!body.ok()) return body.error();
  if (auth.payload_mode == PayloadMode::kSha256 && sha256Hex(*body) != auth.payload_sha256) {
    return s3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  if (req.hasHeader("content-md5")) {
    Result<std::string> raw = base64Decode(req.header("content-md5"));
    if (!raw.ok() || raw->size() != 16) {
      return s3Error("InvalidDigest", "The Content-MD5 you specified is not valid.");
    }
    Md5 md5;
    md5.update(*body);
    if (md5.finish() != *raw) {
      return s3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
  }
  for (const auto& [name, value] : req.headers) {
    std::optional<ChecksumAlgorithm> algorithm = checksumFromHeader(name);
    if (algorithm && checksumBase64(*algorithm, *body) != value) {
      return s3Error("BadDigest", "The " + checksumName(*algorithm) +
                                      " you specified did not match the calculated checksum.");
    }
  }
  return body;
}

Result<std::optional<VersionAttributes>> newVersionAttributes(S3Deps& deps, const S3Request& req,
                                                              const std::string& bucket,
                                                              bool has_digest) {
  using Out = std::optional<VersionAttributes>;
  VersionAttributes a;
  if (req.hasHeader("x-amz-tagging")) {
    Result<TagSet> tags = parseTaggingHeader(req.header("x-amz-tagging"));
    if (!tags.ok()) return tags.error();
    a.tags = std::move(*tags);
  }
  if (req.hasHeader("x-amz-acl")) {
    Result<std::string> acl = cannedAcl(req.header("x-amz-acl"));
    if (!acl.ok()) return acl.error();
    a.acl = *acl == "private" ? "" : *acl;
  }
  const bool has_mode = req.hasHeader("x-amz-object-lock-mode");
  const bool has_until = req.hasHeader("x-amz-object-lock-retain-until-date");
  const bool has_hold = req.hasHeader("x-amz-object-lock-legal-hold");
  if (has_mode != has_until) {
    return s3Error("InvalidArgument",
                   "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be "
                   "supplied");
  }
  Result<std::optional<ObjectLockConfig>> config = lockConfig(deps, bucket);
  if (!config.ok()) return config.error();
  const std::int64_t now = deps.clock.nowMillis();
  if (has_mode || has_hold) {
    if (!config->has_value()) return noLockConfiguration();
    if (!has_digest) return missingDigest();
  }
  if (has_mode) {
    a.lock_mode = req.header("x-amz-object-lock-mode");
    if (a.lock_mode != "GOVERNANCE" && a.lock_mode != "COMPLIANCE") {
      return s3Error("InvalidArgument", "Unknown wormMode directive.");
    }
    std::optional<std::int64_t> until =
        parseIsoDate(req.header("x-amz-object-lock-retain-until-date"));
    if (!until) {
      return s3Error("InvalidArgument",
                     "The retain until date must be provided in ISO 8601 format");
    }
    if (*until <= now) {
      return s3Error("InvalidArgument", "The retain until date must be in the future!");
    }
    a.retain_until_ms = *until;
  } else if (config->has_value() && (*config)->rule) {
    // S3 requires an integrity check for every upload a retention period applies to.
    if (!has_digest) return missingDigest();
    a.lock_mode = (*config)->rule->mode;
    a.retain_until_ms = defaultRetainUntil(*(*config)->rule, now);
  }
  if (has_hold) {
    const std::string hold = req.header("x-amz-object-lock-legal-hold");
    if (hold != "ON" && hold != "OFF") {
      return s3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'");
    }
    a.legal_hold = hold == "ON";
  }
  if (a.empty()) return Out{};
  return Out{a};
}

Result<std::optional<VersionAttributes>> defaultVersionAttributes(S3Deps& deps,
                                                                  const std::string& bucket) {
  using Out = std::optional<VersionAttributes>;
  Result<std::optional<ObjectLockConfig>> config = lockConfig(deps, bucket);
  if (!config.ok()) return config.error();
  if (!config->has_value() || !(*config)->rule) return Out{};
  VersionAttributes a;
  a.lock_mode = (*config)->rule->mode;
  a.retain_until_ms = defaultRetainUntil(*(*config)->rule, deps.clock.nowMillis());
  return Out{a};
}

Status setVersionAttributeHeaders(S3Deps& deps, S3Exchange& ex, const ObjectRecord& object) {
  // getObject reads them with the object (one round trip); other reads leave them unset.
  Result<VersionAttributes> a =
      object.attributes
          ? Result<VersionAttributes>(*object.attributes)
          : deps.metadata.getVersionAttributes(object.bucket, object.key, object.version_id);
  if (!a.ok()) return a.error();
  if (!a->lock_mode.empty()) {
    ex.setHeader("x-amz-object-lock-mode", a->lock_mode);
    ex.setHeader("x-amz-object-lock-retain-until-date", isoTimestamp(a->retain_until_ms));
  }
  if (a->legal_hold) ex.setHeader("x-amz-object-lock-legal-hold", "ON");
  if (!a->tags.empty()) ex.setHeader("x-amz-tagging-count", std::to_string(a->tags.size()));
  return okStatus();
}

bool bypassGovernance(const S3Request& req, const AuthContext& auth) {
  std::string v = req.header("x-amz-bypass-governance-retention");
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true" && !auth.scope;
}

Result<std::map<std::string, std::string>> createBucketDocuments(const S3Request& req,
                                                                 bool& enable_versioning) {
  std::map<std::string, std::string> docs;
  enable_versioning = false;
  std::string lock = req.header("x-amz-bucket-object-lock-enabled");
  for (char& c : lock) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lock == "true") {
    docs["object-lock"] = objectLockConfigXml(ObjectLockConfig{});
    enable_versioning = true;
  } else if (!lock.empty() && lock != "false") {
    return s3Error("InvalidArgument", "x-amz-bucket-object-lock-enabled must be true or false");
  }
  if (req.hasHeader("x-amz-acl")) {
    Result<std::string> acl = cannedAcl(req.header("x-amz-acl"));
    if (!acl.ok()) return acl.error();
    if (*acl != "private") docs["acl"] = *acl;
  }
  return docs;
}

Status checkVersioningChange(S3Deps& deps, const std::string& bucket, bool suspend) {
  if (!suspend) return okStatus();
  Result<std::map<std::string, std::string>> docs = deps.metadata.getBucketDocuments(bucket);
  if (!docs.ok()) return docs.error();
  if (docs->count("object-lock")) {
    return s3Error("InvalidBucketState",
                   "An Object Lock configuration is present on this bucket, so the versioning "
                   "state cannot be changed.");
  }
  return okStatus();
}

}  // namespace dcloud::gateway
