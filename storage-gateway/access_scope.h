#pragma once
// What a scoped access key may do: one bucket, and read or write grants on key prefixes.
// JSON form (gateway.access_keys.scope):
//   {"bucket": "b", "grants": [{"access": "read", "prefix": "inputs/"}, ...]}
// A key without a scope acts with the full rights of its principal.

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace dcloud::gateway {

enum class Access { kRead, kWrite };

struct Grant {
  Access access = Access::kRead;
  std::string prefix;  // "" grants the whole bucket
};

struct AccessScope {
  std::string bucket;
  std::vector<Grant> grants;
};

// InvalidArgument on unknown fields, a bad bucket name, an unknown access or a missing prefix.
Result<AccessScope> parseAccessScope(const JsonObject& obj);
Result<AccessScope> parseAccessScope(const std::string& json);
std::string accessScopeJson(const AccessScope& scope);
Result<std::vector<Grant>> parseGrants(const JsonArray& arr);

// The operations a request performs, as the scope check sees them.
enum class Operation {
  kListBuckets,
  kCreateBucket,
  kDeleteBucket,
  kHeadBucket,
  kListObjects,  // key = the listing prefix
  kGetObject,    // GET and HEAD
  kPutObject,
  kDeleteObject,
};
const char* operationName(Operation op);

// True if a key with this scope (nullopt = unscoped) may perform op on bucket/key. Bucket-level
// operations other than HeadBucket and listing are refused to every scoped key; a listing is
// allowed only when its whole prefix lies under one read grant.
bool scopeAllows(const std::optional<AccessScope>& scope, Operation op, const std::string& bucket,
                 const std::string& key);

}  // namespace dcloud::gateway
