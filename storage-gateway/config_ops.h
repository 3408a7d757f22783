#pragma once
// Internal to the gateway: Object Lock, lifecycle, tagging, CORS and ACL operations
// (object_lock_ops.cpp, bucket_config_ops.cpp, acl_cors_ops.cpp) and the hooks the object
// operations and the router call.

#include <map>
#include <optional>
#include <string>

#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/version_attributes.h"

namespace dcloud::gateway {

struct BodyPlan;

// The sub-resources handled here: object-lock, retention, legal-hold, lifecycle, tagging, cors,
// acl. nullopt when req names none of them; otherwise the operation's status (MethodNotAllowed or
// NotImplemented for combinations S3 does not have).
std::optional<Status> dispatchBucketConfig(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                                           const AuthContext& auth);

// ?object-lock, ?retention, ?legal-hold (object_lock_ops.cpp).
Status objectLockOperation(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth);

// PutObject / CopyObject: the attributes a new version gets from x-amz-object-lock-mode,
// -retain-until-date, -legal-hold, x-amz-tagging, x-amz-acl and the bucket's default retention.
// InvalidRequest when lock headers come to a bucket without Object Lock or without Content-MD5 /
// x-amz-checksum (has_digest), InvalidArgument for incomplete or past retention.
Result<std::optional<VersionAttributes>> newVersionAttributes(S3Deps& deps, const S3Request& req,
                                                              const std::string& bucket,
                                                              bool has_digest);
// The default retention of the bucket's Object Lock configuration for a version written now
// (multipart completions); nullopt when there is none.
Result<std::optional<VersionAttributes>> defaultVersionAttributes(S3Deps& deps,
                                                                  const std::string& bucket);
// GET/HEAD: x-amz-object-lock-mode, -retain-until-date, -legal-hold and x-amz-tagging-count.
Status setVersionAttributeHeaders(S3Deps& deps, S3Exchange& ex, const ObjectRecord& object);
// x-amz-bypass-governance-retention: true from a key with the owner's full rights.
bool bypassGovernance(const S3Request& req, const AuthContext& auth);
// CreateBucket: the documents x-amz-bucket-object-lock-enabled and x-amz-acl ask for, and
// whether the bucket starts with versioning enabled (Object Lock needs it).
Result<std::map<std::string, std::string>> createBucketDocuments(const S3Request& req,
                                                                 bool& enable_versioning);
// PutBucketVersioning: InvalidBucketState when suspending a bucket with Object Lock.
Status checkVersioningChange(S3Deps& deps, const std::string& bucket, bool suspend);

// Reads a configuration body (at most 64 KiB) and checks it against x-amz-content-sha256 and, when
// sent, Content-MD5 and x-amz-checksum-* (BadDigest / XAmzContentSHA256Mismatch).
Result<std::string> readConfigBody(S3Exchange& ex, const S3Request& req, const AuthContext& auth);

// OPTIONS (a browser's CORS preflight), answered without authentication.
Status corsPreflight(S3Deps& deps, S3Exchange& ex, const S3Request& req);
// With an Origin header: the Access-Control-* headers of the bucket's first matching CORS rule.
void applyCorsHeaders(S3Deps& deps, S3Exchange& ex, const S3Request& req);
// When a read was refused: the identity under which a canned ACL lets it through, i.e. the
// bucket owner restricted to reading this object (object ACL public-read, or authenticated-read
// for an authenticated requester) or listing this bucket (bucket ACL likewise). nullopt if none.
std::optional<AuthContext> aclReadAccess(S3Deps& deps, const S3Request& req, bool authenticated);

}  // namespace dcloud::gateway
