#include "storage-gateway/access_keys.h"

#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

std::string randomFrom(Random& random, const std::string& alphabet, std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::uint8_t b = 0;
    random.fill(&b, 1);
    // Rejection sampling keeps the characters uniform.
    const std::size_t limit = 256 - 256 % alphabet.size();
    if (b < limit) out += alphabet[b % alphabet.size()];
  }
  return out;
}

}  // namespace

std::string generateAccessKeyId(Random& random) {
  return "DC" + randomFrom(random, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 18);
}

std::string generateSecretKey(Random& random) {
  return randomFrom(random, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
}

bool isValidAccessKeyId(const std::string& id) {
  if (id.size() < 3 || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<IssuedAccessKey> AccessKeys::create(const NewAccessKey& request) {
  if (request.principal.empty()) return invalidArgument("principal must not be empty");
  IssuedAccessKey issued;
  issued.access_key = request.access_key.value_or(generateAccessKeyId(random_));
  issued.secret_key = request.secret_key.value_or(generateSecretKey(random_));
  if (!isValidAccessKeyId(issued.access_key)) {
    return invalidArgument("access key ids are 3-128 characters of [A-Za-z0-9._-]");
  }
  if (issued.secret_key.size() < 8 || issued.secret_key.size() > 256) {
    return invalidArgument("secret keys are 8-256 characters");
  }
  AccessKeyRow row;
  row.access_key = issued.access_key;
  row.sealed_secret = master_.seal(issued.secret_key, random_);
  row.principal = request.principal;
  row.display_name = request.display_name;
  if (request.scope) row.scope_json = accessScopeJson(*request.scope);
  row.created_ms = clock_.nowMillis();
  if (request.ttl_millis) {
    if (*request.ttl_millis <= 0) return invalidArgument("ttl must be positive");
    row.expires_at_ms = row.created_ms + *request.ttl_millis;
    issued.expires_at_ms = row.expires_at_ms;
  }
  DCLOUD_TRY(store_.insertAccessKey(row));
  return issued;
}

Result<ResolvedAccessKey> AccessKeys::resolve(const std::string& access_key) {
  const Error unknown = s3Error("InvalidAccessKeyId",
                                "The AWS Access Key Id you provided does not exist in our "
                                "records.");
  Result<AccessKeyRow> row = store_.getAccessKey(access_key);
  if (!row.ok()) return row.error().code == ErrorCode::kNotFound ? unknown : row.error();
  if (row->revoked) return unknown;
  if (row->expires_at_ms && *row->expires_at_ms <= clock_.nowMillis()) {
    return s3Error("InvalidAccessKeyId", "The access key has expired.");
  }
  Result<std::string> secret = master_.open(row->sealed_secret);
  if (!secret.ok()) return secret.error();
  ResolvedAccessKey out;
  out.access_key = row->access_key;
  out.secret_key = std::move(*secret);
  out.principal = row->principal;
  out.display_name = row->display_name;
  if (row->scope_json) {
    Result<AccessScope> scope = parseAccessScope(*row->scope_json);
    if (!scope.ok()) return internalError("stored scope is malformed: " + scope.error().message);
    out.scope = std::move(*scope);
  }
  return out;
}

}  // namespace dcloud::gateway
