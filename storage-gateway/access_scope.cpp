#include "storage-gateway/access_scope.h"

#include <Poco/JSON/Parser.h>

#include "storage-gateway/s3_names.h"

namespace dcloud::gateway {

Result<std::vector<Grant>> parseGrants(const JsonArray& arr) {
  std::vector<Grant> grants;
  if (!arr) return invalidArgument("grants: expected an array");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    JsonObject g = arr->getObject(static_cast<unsigned>(i));
    const std::string where = "grants[" + std::to_string(i) + "]";
    if (!g) return invalidArgument(where + ": expected an object");
    DCLOUD_TRY(requireOnlyFields(g, {"access", "prefix"}));
    Result<std::string> access = getString(g, "access");
    if (!access.ok()) return invalidArgument(where + ": " + access.error().message);
    Result<std::string> prefix = getString(g, "prefix");
    if (!prefix.ok()) return invalidArgument(where + ": " + prefix.error().message);
    Grant grant;
    if (*access == "read")
      grant.access = Access::kRead;
    else if (*access == "write")
      grant.access = Access::kWrite;
    else
      return invalidArgument(where + ".access: must be \"read\" or \"write\"");
    if (prefix->size() > kMaxKeyBytes || !isValidUtf8(*prefix)) {
      return invalidArgument(where + ".prefix: not a valid key prefix");
    }
    grant.prefix = *prefix;
    grants.push_back(std::move(grant));
  }
  return grants;
}

Result<AccessScope> parseAccessScope(const JsonObject& obj) {
  if (!obj) return invalidArgument("scope: expected an object");
  DCLOUD_TRY(requireOnlyFields(obj, {"bucket", "grants"}));
  Result<std::string> bucket = getString(obj, "bucket");
  if (!bucket.ok()) return bucket.error();
  if (!isValidBucketName(*bucket)) return invalidArgument("scope.bucket: invalid bucket name");
  Result<std::optional<JsonArray>> arr = getOptionalArray(obj, "grants");
  if (!arr.ok()) return arr.error();
  AccessScope scope;
  scope.bucket = *bucket;
  if (arr->has_value()) {
    Result<std::vector<Grant>> grants = parseGrants(**arr);
    if (!grants.ok()) return grants.error();
    scope.grants = std::move(*grants);
  }
  return scope;
}

Result<AccessScope> parseAccessScope(const std::string& json) {
  Result<JsonObject> obj = parseJsonObject(json);
  if (!obj.ok()) return obj.error();
  return parseAccessScope(*obj);
}

std::string accessScopeJson(const AccessScope& scope) {
  JsonObject obj = new Poco::JSON::Object;
  obj->set("bucket", scope.bucket);
  JsonArray grants = new Poco::JSON::Array;
  for (const Grant& g : scope.grants) {
    JsonObject go = new Poco::JSON::Object;
    go->set("access", std::string(g.access == Access::kRead ? "read" : "write"));
    go->set("prefix", g.prefix);
    grants->add(go);
  }
  obj->set("grants", grants);
  return toJson(obj);
}

const char* operationName(Operation op) {
  switch (op) {
    case Operation::kListBuckets: return "ListBuckets";
    case Operation::kCreateBucket: return "CreateBucket";
    case Operation::kDeleteBucket: return "DeleteBucket";
    case Operation::kHeadBucket: return "HeadBucket";
    case Operation::kListObjects: return "ListObjects";
    case Operation::kGetObject: return "GetObject";
    case Operation::kPutObject: return "PutObject";
    case Operation::kDeleteObject: return "DeleteObject";
  }
  return "Unknown";
}

bool scopeAllows(const std::optional<AccessScope>& scope, Operation op, const std::string& bucket,
                 const std::string& key) {
  if (!scope) return true;
  if (bucket != scope->bucket) return false;
  auto granted = [&](Access access) {
    for (const Grant& g : scope->grants) {
      if (g.access == access && key.compare(0, g.prefix.size(), g.prefix) == 0 &&
          key.size() >= g.prefix.size()) {
        return true;
      }
    }
    return false;
  };
  switch (op) {
    case Operation::kHeadBucket: return !scope->grants.empty();
    case Operation::kListObjects:
    case Operation::kGetObject: return granted(Access::kRead);
    case Operation::kPutObject:
    case Operation::kDeleteObject: return granted(Access::kWrite);
    case Operation::kListBuckets:
    case Operation::kCreateBucket:
    case Operation::kDeleteBucket: return false;
  }
  return false;
}

}  // namespace dcloud::gateway
