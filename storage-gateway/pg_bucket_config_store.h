#pragma once
// Internal to PgMetadataStore: the Object Lock and attribute steps that run inside its object
// commits (pg_metadata_store.cpp calls them under the key's advisory lock; the rest of the
// bucket-configuration queries live in pg_bucket_config_store.cpp).

#include <cstdint>
#include <optional>
#include <string>

#include "common/pg.h"
#include "common/result.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

// The attributes in r's columns first.. first + 4: lock_mode, retain_until_ms, legal_hold,
// tags::text, acl.
VersionAttributes versionAttributesFrom(const pqxx::row& r, pqxx::row::size_type first);
// Tags as stored in a jsonb column ([[key, value], ...]).
std::string tagsJson(const TagSet& tags);
// Before a version is removed by id: AccessDenied while Object Lock protects it at now_ms.
Status checkVersionRemovable(pqxx::work& w, const std::string& bucket, const std::string& key,
                             const std::string& version_id, std::int64_t now_ms,
                             bool bypass_governance);
// After object was stored as version_id: a replaced "null" version must not be protected (never
// bypassable: an overwrite is not a governance bypass), its attributes are dropped, and the new
// version's attributes (object.attributes) stored.
Status storeVersionAttributes(pqxx::work& w, const ObjectRecord& object,
                              const std::string& version_id);
// The same with the "null" version's attributes already read under the key's lock (old).
Status storeVersionAttributes(pqxx::work& w, const ObjectRecord& object,
                              const std::string& version_id,
                              const std::optional<VersionAttributes>& old);

}  // namespace dcloud::gateway
