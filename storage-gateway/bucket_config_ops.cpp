// Lifecycle, tagging, CORS and canned-ACL operations, and the router hook for every
// configuration sub-resource (dispatchBucketConfig). Bodies are parsed and validated by the pure
// lifecycle_rules / bucket_config code and stored as normalised documents.
#include <algorithm>

#include "storage-gateway/bucket_config.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/lifecycle_rules.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_names.h"

namespace dcloud::gateway {
namespace {

Error notAllowed() {
  return s3Error("MethodNotAllowed", "The specified method is not allowed against this resource.");
}

Result<std::optional<std::string>> document(S3Deps& deps, const std::string& bucket,
                                            const std::string& kind) {
  using Out = std::optional<std::string>;
  Result<std::map<std::string, std::string>> docs = deps.metadata.getBucketDocuments(bucket);
  if (!docs.ok()) return docs.error();
  auto it = docs->find(kind);
  if (it == docs->end()) return Out{};
  return Out{it->second};
}

// PUT/GET/DELETE of one bucket document. parse turns a body into the stored form; missing is the
// error a GET of an absent document gets.
Status bucketDocument(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth,
                      const std::string& kind, const std::string& name,
                      const std::function<Result<std::string>(const std::string&)>& parse,
                      const Error& missing) {
  const std::string& m = req.method;
  if (m != "PUT" && m != "GET" && m != "DELETE") return notAllowed();
  ex.record().operation = (m == "PUT"   ? "PutBucket"
                           : m == "GET" ? "GetBucket"
                                        : "DeleteBucket") +
                          name;
  // Reading a configuration is like HeadBucket; changing one is a bucket-level write, which
  // scoped keys may not do (as for PutBucketVersioning).
  Result<BucketRecord> bucket = authorizeBucket(
      deps, auth, req.bucket, m == "GET" ? Operation::kHeadBucket : Operation::kDeleteBucket, "");
  if (!bucket.ok()) return bucket.error();
  if (m == "GET") {
    Result<std::optional<std::string>> doc = document(deps, req.bucket, kind);
    if (!doc.ok()) return doc.error();
    if (!doc->has_value()) return missing;
    ex.sendXml(200, **doc);
    return okStatus();
  }
  if (m == "DELETE") {
    DCLOUD_TRY(deps.metadata.putBucketDocument(req.bucket, kind, std::nullopt));
    ex.sendEmpty(204);
    return okStatus();
  }
  Result<std::string> body = readConfigBody(ex, req, auth);
  if (!body.ok()) return body.error();
  Result<std::string> stored = parse(*body);
  if (!stored.ok()) return stored.error();
  DCLOUD_TRY(deps.metadata.putBucketDocument(req.bucket, kind, *stored));
  ex.sendEmpty(200);
  return okStatus();
}

Status objectTagging(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  const std::string& m = req.method;
  if (m != "PUT" && m != "GET" && m != "DELETE") return notAllowed();
  ex.record().operation = m == "PUT"   ? "PutObjectTagging"
                          : m == "GET" ? "GetObjectTagging"
                                       : "DeleteObjectTagging";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket = authorizeBucket(
      deps, auth, req.bucket, m == "GET" ? Operation::kGetObject : Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  std::optional<TagSet> tags;
  if (m == "PUT") {
    Result<std::string> body = readConfigBody(ex, req, auth);
    if (!body.ok()) return body.error();
    Result<TagSet> parsed = parseTagging(*body, kMaxObjectTags);
    if (!parsed.ok()) return parsed.error();
    tags = std::move(*parsed);
  }
  std::string version;
  if (std::optional<std::string> v = req.queryValue("versionId")) {
    version = *v;
  } else {
    Result<ObjectRecord> current = deps.metadata.getObject(req.bucket, req.key);
    if (!current.ok()) return current.error();
    version = current->version_id;
  }
  if (bucket->versioning != Versioning::kUnversioned) ex.setHeader("x-amz-version-id", version);
  if (m == "GET") {
    Result<VersionAttributes> a = deps.metadata.getVersionAttributes(req.bucket, req.key, version);
    if (!a.ok()) return a.error();
    ex.sendXml(200, taggingXml(a->tags));
    return okStatus();
  }
  DCLOUD_TRY(deps.metadata.updateVersionAttributes(req.bucket, req.key, version,
                                                   [&](VersionAttributes& a) -> Status {
                                                     a.tags = tags.value_or(TagSet{});
                                                     return okStatus();
                                                   }));
  ex.sendEmpty(m == "PUT" ? 200 : 204);
  return okStatus();
}

Status bucketAcl(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  const std::string& m = req.method;
  if (m != "PUT" && m != "GET") return notAllowed();
  ex.record().operation = m == "PUT" ? "PutBucketAcl" : "GetBucketAcl";
  Result<BucketRecord> bucket = authorizeBucket(
      deps, auth, req.bucket, m == "GET" ? Operation::kHeadBucket : Operation::kDeleteBucket, "");
  if (!bucket.ok()) return bucket.error();
  if (m == "GET") {
    Result<std::optional<std::string>> acl = document(deps, req.bucket, "acl");
    if (!acl.ok()) return acl.error();
    ex.sendXml(200,
               accessControlPolicyXml(bucket->owner, auth.display_name, acl->value_or("private")));
    return okStatus();
  }
  Result<std::string> body = readConfigBody(ex, req, auth);
  if (!body.ok()) return body.error();
  Result<std::string> acl = req.hasHeader("x-amz-acl") ? cannedAcl(req.header("x-amz-acl"))
                                                       : parseAccessControlPolicy(*body);
  if (!acl.ok()) return acl.error();
  DCLOUD_TRY(deps.metadata.putBucketDocument(
      req.bucket, "acl", *acl == "private" ? std::nullopt : std::optional<std::string>(*acl)));
  ex.sendEmpty(200);
  return okStatus();
}

Status objectAcl(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  const std::string& m = req.method;
  if (m != "PUT" && m != "GET") return notAllowed();
  ex.record().operation = m == "PUT" ? "PutObjectAcl" : "GetObjectAcl";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket = authorizeBucket(
      deps, auth, req.bucket, m == "GET" ? Operation::kGetObject : Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  std::optional<std::string> acl;
  if (m == "PUT") {
    Result<std::string> body = readConfigBody(ex, req, auth);
    if (!body.ok()) return body.error();
    Result<std::string> parsed = req.hasHeader("x-amz-acl") ? cannedAcl(req.header("x-amz-acl"))
                                                            : parseAccessControlPolicy(*body);
    if (!parsed.ok()) return parsed.error();
    acl = *parsed;
  }
  std::string version;
  if (std::optional<std::string> v = req.queryValue("versionId")) {
    version = *v;
  } else {
    Result<ObjectRecord> current = deps.metadata.getObject(req.bucket, req.key);
    if (!current.ok()) return current.error();
    version = current->version_id;
  }
  if (m == "GET") {
    Result<VersionAttributes> a = deps.metadata.getVersionAttributes(req.bucket, req.key, version);
    if (!a.ok()) return a.error();
    ex.sendXml(200, accessControlPolicyXml(bucket->owner, auth.display_name,
                                           a->acl.empty() ? "private" : a->acl));
    return okStatus();
  }
  DCLOUD_TRY(deps.metadata.updateVersionAttributes(req.bucket, req.key, version,
                                                   [&](VersionAttributes& a) -> Status {
                                                     a.acl = *acl == "private" ? "" : *acl;
                                                     return okStatus();
                                                   }));
  ex.sendEmpty(200);
  return okStatus();
}

Result<std::vector<CorsRule>> bucketCors(S3Deps& deps, const std::string& bucket) {
  Result<std::optional<std::string>> doc = document(deps, bucket, "cors");
  if (!doc.ok()) return doc.error();
  if (!doc->has_value()) return std::vector<CorsRule>{};
  return parseCors(**doc);
}

void setCorsHeaders(S3Exchange& ex, const CorsRule& rule, const std::string& origin) {
  const bool any = std::find(rule.origins.begin(), rule.origins.end(), "*") != rule.origins.end();
  ex.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
  if (!any) ex.setHeader("Access-Control-Allow-Credentials", "true");
  std::string methods;
  for (const std::string& m : rule.methods) methods += (methods.empty() ? "" : ", ") + m;
  ex.setHeader("Access-Control-Allow-Methods", methods);
  std::string expose;
  for (const std::string& e : rule.expose) expose += (expose.empty() ? "" : ", ") + e;
  if (!expose.empty()) ex.setHeader("Access-Control-Expose-Headers", expose);
  if (rule.max_age_seconds >= 0) {
    ex.setHeader("Access-Control-Max-Age", std::to_string(rule.max_age_seconds));
  }
  ex.setHeader("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

}  // namespace

std::optional<Status> dispatchBucketConfig(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                                           const AuthContext& auth) {
  if (req.hasQuery("object-lock") || req.hasQuery("retention") || req.hasQuery("legal-hold")) {
    return objectLockOperation(deps, ex, req, auth);
  }
  const bool bucket_level = req.key.empty();
  if (req.hasQuery("lifecycle")) {
    if (!bucket_level) return Status(notAllowed());
    return bucketDocument(
        deps, ex, req, auth, "lifecycle", "Lifecycle",
        [](const std::string& body) -> Result<std::string> {
          Result<LifecycleConfig> config = parseLifecycle(body);
          if (!config.ok()) return config.error();
          return lifecycleXml(*config);
        },
        s3Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"));
  }
  if (req.hasQuery("cors")) {
    if (!bucket_level) return Status(notAllowed());
    return bucketDocument(
        deps, ex, req, auth, "cors", "Cors",
        [](const std::string& body) -> Result<std::string> {
          Result<std::vector<CorsRule>> rules = parseCors(body);
          if (!rules.ok()) return rules.error();
          return corsXml(*rules);
        },
        s3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist"));
  }
  if (req.hasQuery("tagging")) {
    if (!bucket_level) return objectTagging(deps, ex, req, auth);
    return bucketDocument(
        deps, ex, req, auth, "tagging", "Tagging",
        [](const std::string& body) -> Result<std::string> {
          Result<TagSet> tags = parseTagging(body, kMaxBucketTags);
          if (!tags.ok()) return tags.error();
          return taggingXml(*tags);
        },
        s3Error("NoSuchTagSet", "The TagSet does not exist"));
  }
  if (req.hasQuery("acl")) {
    return bucket_level ? bucketAcl(deps, ex, req, auth) : objectAcl(deps, ex, req, auth);
  }
  return std::nullopt;
}

Status corsPreflight(S3Deps& deps, S3Exchange& ex, const S3Request& req) {
  ex.record().operation = "PreflightRequest";
  ex.record().principal = "anonymous";
  const std::string origin = req.header("origin");
  const std::string method = req.header("access-control-request-method");
  if (origin.empty()) {
    return s3Error("BadRequest", "Insufficient information. Origin request header needed.");
  }
  if (method.empty()) {
    return s3Error("BadRequest", "Invalid Access-Control-Request-Method: null");
  }
  if (req.bucket.empty() || !isValidBucketName(req.bucket)) {
    return s3Error("AccessForbidden", "CORSResponse: Bucket not found");
  }
  Result<std::vector<CorsRule>> rules = bucketCors(deps, req.bucket);
  if (!rules.ok()) {
    if (rules.error().code == ErrorCode::kNotFound) {
      return s3Error("AccessForbidden", "CORSResponse: Bucket not found");
    }
    return rules.error();
  }
  if (rules->empty()) {
    return s3Error("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.");
  }
  const std::vector<std::string> headers =
      splitHeaderList(req.header("access-control-request-headers"));
  const CorsRule* rule = matchCors(*rules, origin, method, headers);
  if (rule == nullptr) {
    return s3Error("AccessForbidden",
                   "CORSResponse: This CORS request is not allowed. This is usually because the "
                   "evalution of Origin, request method / Access-Control-Request-Method or "
                   "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                   "spec.");
  }
  setCorsHeaders(ex, *rule, origin);
  std::string allowed;
  for (const std::string& h : headers) allowed += (allowed.empty() ? "" : ", ") + h;
  if (!allowed.empty()) ex.setHeader("Access-Control-Allow-Headers", allowed);
  ex.sendEmpty(200);
  return okStatus();
}

void applyCorsHeaders(S3Deps& deps, S3Exchange& ex, const S3Request& req) {
  const std::string origin = req.header("origin");
  if (origin.empty() || req.bucket.empty() || !isValidBucketName(req.bucket)) return;
  Result<std::vector<CorsRule>> rules = bucketCors(deps, req.bucket);
  if (!rules.ok() || rules->empty()) return;
  if (const CorsRule* rule = matchCors(*rules, origin, req.method, {})) {
    setCorsHeaders(ex, *rule, origin);
  }
}

std::optional<AuthContext> aclReadAccess(S3Deps& deps, const S3Request& req, bool authenticated) {
  if ((req.method != "GET" && req.method != "HEAD") || req.bucket.empty() ||
      !isValidBucketName(req.bucket)) {
    return std::nullopt;
  }
  // Only plain reads: an object (optionally one version) or a bucket listing.
  static const char* const kListParams[] = {
      "list-type",     "prefix",      "delimiter",          "marker",     "max-keys",
      "encoding-type", "start-after", "continuation-token", "fetch-owner"};
  for (const auto& [name, value] : req.query) {
    const bool ok = req.key.empty() ? std::find_if(std::begin(kListParams), std::end(kListParams),
                                                   [&](const char* p) { return name == p; }) !=
                                          std::end(kListParams)
                                    : name == "versionId";
    if (!ok) return std::nullopt;
  }
  Result<BucketRecord> bucket = deps.metadata.getBucket(req.bucket);
  if (!bucket.ok()) return std::nullopt;
  auto grants = [&](const std::string& acl) {
    return acl == "public-read" || (authenticated && acl == "authenticated-read");
  };
  AuthContext owner;
  owner.principal = bucket->owner;
  owner.display_name = bucket->owner;
  if (req.key.empty()) {
    if (req.method != "GET") return std::nullopt;
    Result<std::optional<std::string>> acl = document(deps, req.bucket, "acl");
    if (!acl.ok() || !grants(acl->value_or(""))) return std::nullopt;
    owner.scope = AccessScope{req.bucket, {Grant{Access::kRead, ""}}};
    return owner;
  }
  std::string version;
  if (std::optional<std::string> v = req.queryValue("versionId")) {
    version = *v;
  } else {
    Result<ObjectRecord> current = deps.metadata.getObject(req.bucket, req.key);
    if (!current.ok()) return std::nullopt;
    version = current->version_id;
  }
  Result<VersionAttributes> a = deps.metadata.getVersionAttributes(req.bucket, req.key, version);
  if (!a.ok() || !grants(a->acl)) return std::nullopt;
  owner.scope = AccessScope{req.bucket, {Grant{Access::kRead, req.key}}};
  return owner;
}

}  // namespace dcloud::gateway
