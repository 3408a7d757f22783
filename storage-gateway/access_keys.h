#pragma once
// S3 access keys: issued to a principal, optionally scoped and expiring, secrets sealed with the
// master key in the metadata store.

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "storage-gateway/access_scope.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

struct NewAccessKey {
  std::string principal;
  std::string display_name;
  std::optional<AccessScope> scope;
  std::optional<std::int64_t> ttl_millis;
  std::optional<std::string> access_key;  // chosen by the caller, else generated
  std::optional<std::string> secret_key;
};

struct IssuedAccessKey {
  std::string access_key;
  std::string secret_key;
  std::optional<std::int64_t> expires_at_ms;
};

struct ResolvedAccessKey {
  std::string access_key;
  std::string secret_key;
  std::string principal;
  std::string display_name;
  std::optional<AccessScope> scope;
};

class AccessKeys {
 public:
  AccessKeys(MetadataStore& store, const MasterKey& master, const Clock& clock, Random& random)
      : store_(store), master_(master), clock_(clock), random_(random) {}

  // InvalidArgument for a malformed chosen key or secret, AlreadyExists if the id is taken.
  Result<IssuedAccessKey> create(const NewAccessKey& request);
  // InvalidAccessKeyId (S3 reason) when the key is unknown, revoked or expired.
  Result<ResolvedAccessKey> resolve(const std::string& access_key);

 private:
  MetadataStore& store_;
  const MasterKey& master_;
  const Clock& clock_;
  Random& random_;
};

// 20 characters "DC" + [A-Z2-7]{18}; secrets are 40 characters of [A-Za-z0-9].
std::string generateAccessKeyId(Random& random);
std::string generateSecretKey(Random& random);
bool isValidAccessKeyId(const std::string& id);

}  // namespace dcloud::gateway
