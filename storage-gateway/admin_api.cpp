#include "storage-gateway/admin_api.h"

#include <Poco/JSON/Object.h>

#include "common/crypto.h"
#include "common/http_errors.h"
#include "common/json.h"
#include "storage-gateway/s3_names.h"

namespace dcloud::gateway {
namespace {

AdminResponse errorResponse(const Error& e, AdminResponse r) {
  // Errors from the metadata store carry S3 reasons; the JSON API speaks its own codes.
  Error plain{e.code, e.message};
  r.status = httpErrorFor(plain).http_status;
  r.body = errorJson(plain);
  return r;
}

AdminResponse okResponse(const JsonObject& obj, AdminResponse r) {
  r.status = 200;
  r.body = toJson(obj);
  return r;
}

}  // namespace

AdminResponse AdminApi::handle(const AdminRequest& req) const {
  AdminResponse r;
  const bool buckets = req.path == "/_dcloud/v1/buckets";
  const bool credentials = req.path == "/_dcloud/v1/credentials";
  r.operation = buckets ? "AdminCreateBucket" : credentials ? "AdminCreateCredentials" : "Admin";
  if (!buckets && !credentials) return errorResponse(notFound("no such admin route"), r);
  if (req.method != "POST") return errorResponse(invalidArgument("method not allowed"), r);

  Result<std::string> principal = verifier_.verify(
      req.authorization, {req.method, req.path, req.raw_query, sha256Hex(req.body)});
  if (!principal.ok()) return errorResponse(principal.error(), r);
  r.principal = *principal;
  if (admins_.count(*principal) == 0) {
    return errorResponse(permissionDenied("principal is not a gateway admin"), r);
  }
  Result<JsonObject> body = parseJsonObject(req.body);
  if (!body.ok()) return errorResponse(body.error(), r);

  if (buckets) {
    Status fields = requireOnlyFields(*body, {"owner", "bucket"});
    if (!fields.ok()) return errorResponse(fields.error(), r);
    Result<std::string> owner = getString(*body, "owner");
    if (!owner.ok()) return errorResponse(owner.error(), r);
    Result<std::string> name = getString(*body, "bucket");
    if (!name.ok()) return errorResponse(name.error(), r);
    if (owner->empty()) return errorResponse(invalidArgument("owner must not be empty"), r);
    if (!isValidBucketName(*name)) return errorResponse(invalidArgument("invalid bucket name"), r);
    Result<CreateBucketOutcome> outcome =
        metadata_.createBucket({*name, *owner, clock_.nowMillis()});
    if (!outcome.ok()) return errorResponse(outcome.error(), r);
    if (outcome->bucket.owner != *owner) {
      return errorResponse(permissionDenied("bucket belongs to another principal"), r);
    }
    JsonObject out = new Poco::JSON::Object;
    out->set("bucket", *name);
    out->set("owner", *owner);
    out->set("created", outcome->created);
    return okResponse(out, r);
  }

  Status fields = requireOnlyFields(*body, {"principal", "bucket", "grants", "ttl_seconds"});
  if (!fields.ok()) return errorResponse(fields.error(), r);
  Result<std::string> owner = getString(*body, "principal");
  if (!owner.ok()) return errorResponse(owner.error(), r);
  Result<std::string> name = getString(*body, "bucket");
  if (!name.ok()) return errorResponse(name.error(), r);
  Result<std::optional<JsonArray>> grants_json = getOptionalArray(*body, "grants");
  if (!grants_json.ok()) return errorResponse(grants_json.error(), r);
  if (!grants_json->has_value()) return errorResponse(invalidArgument("grants is required"), r);
  Result<std::vector<Grant>> grants = parseGrants(**grants_json);
  if (!grants.ok()) return errorResponse(grants.error(), r);
  Result<std::int64_t> ttl = getInt(*body, "ttl_seconds");
  if (!ttl.ok()) return errorResponse(ttl.error(), r);
  if (*ttl <= 0 || *ttl > kMaxCredentialTtlSeconds) {
    return errorResponse(
        invalidArgument("ttl_seconds must be in 1.." + std::to_string(kMaxCredentialTtlSeconds)),
        r);
  }
  if (!isValidBucketName(*name)) return errorResponse(invalidArgument("invalid bucket name"), r);
  Result<BucketRecord> bucket = metadata_.getBucket(*name);
  if (!bucket.ok()) return errorResponse(bucket.error(), r);
  if (bucket->owner != *owner) {
    return errorResponse(permissionDenied("bucket does not belong to principal"), r);
  }
  NewAccessKey request;
  request.principal = *owner;
  request.display_name = "scoped:" + *name;
  request.scope = AccessScope{*name, std::move(*grants)};
  request.ttl_millis = *ttl * 1000;
  Result<IssuedAccessKey> issued = keys_.create(request);
  if (!issued.ok()) return errorResponse(issued.error(), r);
  JsonObject out = new Poco::JSON::Object;
  out->set("access_key", issued->access_key);
  out->set("secret_key", issued->secret_key);
  out->set("expires_at_ms", issued->expires_at_ms.value_or(0));
  return okResponse(out, r);
}

}  // namespace dcloud::gateway
