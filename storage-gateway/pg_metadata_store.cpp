#include "storage-gateway/pg_metadata_store.h"

#include <Poco/JSON/Object.h>

#include "common/json.h"
#include "storage-gateway/pg_bucket_config_store.h"
#include "storage-gateway/pg_prepared.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

using Conn = pqxx::connection;

std::string millisOf(const char* column) {
  return std::string("(extract(epoch from ") + column + ") * 1000)::bigint";
}

// The columns objectFrom reads; gateway.objects and gateway.object_versions share them.
const std::string kObjectColumns =
    "bucket, key, size, etag, content_type, user_metadata::text, "
    "coalesce(data_id, ''), " +
    millisOf("last_modified") +
    ", coalesce(checksum_algorithm, ''), coalesce(checksum_value, ''), version_id, seq";
// kObjectColumns of gateway.objects o (for joins).
const std::string kJoinedObjectColumns =
    "o.bucket, o.key, o.size, o.etag, o.content_type, o.user_metadata::text, "
    "coalesce(o.data_id, ''), " +
    millisOf("o.last_modified") +
    ", coalesce(o.checksum_algorithm, ''), coalesce(o.checksum_value, ''), o.version_id, o.seq";
// The same, read from gateway.objects, with delete_marker and is_latest.
const std::string kCurrentColumns = kObjectColumns + ", false, true";
// Moves the current row of ($1, $2) into gateway.object_versions (it stays the same version).
const std::string kArchiveCurrent =
    "INSERT INTO gateway.object_versions (bucket, key, version_id, seq, delete_marker, size, "
    "etag, content_type, user_metadata, data_id, last_modified, checksum_algorithm, "
    "checksum_value) SELECT bucket, key, version_id, seq, false, size, etag, content_type, "
    "user_metadata, data_id, last_modified, checksum_algorithm, checksum_value FROM "
    "gateway.objects WHERE bucket = $1 AND key = $2";
const std::string kKeyColumns =
    "access_key, secret_sealed, principal, display_name, scope::text, " + millisOf("expires_at") +
    ", revoked, " + millisOf("created_at");

std::string metadataJson(const std::map<std::string, std::string>& meta) {
  JsonObject obj = new Poco::JSON::Object;
  for (const auto& [k, v] : meta) obj->set(k, v);
  return toJson(obj);
}

std::map<std::string, std::string> parseMetadata(const std::string& text) {
  std::map<std::string, std::string> out;
  Result<JsonObject> obj = parseJsonObject(text);
  if (!obj.ok()) return out;
  for (const auto& [k, v] : **obj) {
    if (v.isString()) out[k] = v.extract<std::string>();
  }
  return out;
}

const std::string kBucketColumns = "name, owner, " + millisOf("created_at") + ", versioning";

Versioning versioningFrom(const std::string& text) {
  if (text == "Enabled") return Versioning::kEnabled;
  if (text == "Suspended") return Versioning::kSuspended;
  return Versioning::kUnversioned;
}

BucketRecord bucketFrom(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
          versioningFrom(r[3].as<std::string>())};
}

// columns: how many of r's columns are object columns (the rest are read by the caller).
ObjectRecord objectFrom(const pqxx::row& r, std::size_t columns) {
  ObjectRecord o;
  o.bucket = r[0].as<std::string>();
  o.key = r[1].as<std::string>();
  o.size = r[2].as<std::int64_t>();
  o.etag = r[3].as<std::string>();
  o.content_type = r[4].as<std::string>();
  o.user_metadata = parseMetadata(r[5].as<std::string>());
  o.data_id = r[6].as<std::string>();
  o.last_modified_ms = r[7].as<std::int64_t>();
  o.checksum_algorithm = r[8].as<std::string>();
  o.checksum_value = r[9].as<std::string>();
  o.version_id = r[10].as<std::string>();
  o.seq = r[11].as<std::int64_t>();
  if (columns > 13) {
    o.delete_marker = r[12].as<bool>();
    o.is_latest = r[13].as<bool>();
  }
  return o;
}

ObjectRecord objectFrom(const pqxx::row& r) {
  return objectFrom(r, r.size());
}

AccessKeyRow keyFrom(const pqxx::row& r) {
  AccessKeyRow k;
  k.access_key = r[0].as<std::string>();
  k.sealed_secret = r[1].as<std::string>();
  k.principal = r[2].as<std::string>();
  k.display_name = r[3].as<std::string>();
  if (!r[4].is_null()) k.scope_json = r[4].as<std::string>();
  if (!r[5].is_null()) k.expires_at_ms = r[5].as<std::int64_t>();
  k.revoked = r[6].as<bool>();
  k.created_ms = r[7].as<std::int64_t>();
  return k;
}

// LIKE pattern matching every string that starts with prefix.
std::string likePrefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

Error preconditionFailed() {
  return s3Error("PreconditionFailed",
                 "At least one of the pre-conditions you specified did not hold");
}

Error noSuchBucket() {
  return s3Error("NoSuchBucket", "The specified bucket does not exist");
}

// Serialises writers of one key, so each replaced data id is reported to exactly one of them
// (a plain upsert would lose the old id when two first writers race) and a condition checked
// under it still holds at the commit.
void lockKey(pqxx::work& w, const std::string& bucket, const std::string& key) {
  execPrepared(w, "gw_lock_key", "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", bucket,
               key);
}

// The bucket's versioning, read under a share lock so it cannot be deleted before the commit.
Result<Versioning> lockedVersioning(pqxx::work& w, const std::string& bucket) {
  pqxx::result row =
      w.exec_params("SELECT versioning FROM gateway.buckets WHERE name = $1 FOR SHARE", bucket);
  if (row.empty()) return noSuchBucket();
  return versioningFrom(row[0][0].as<std::string>());
}

// Deletes the "null" version of a key from gateway.object_versions; adds its data id (if any)
// to freed.
void dropNullVersion(pqxx::work& w, const std::string& bucket, const std::string& key,
                     std::vector<std::string>& freed) {
  pqxx::result gone = execPrepared(w, "gw_drop_null",
                                   "DELETE FROM gateway.object_versions WHERE bucket = $1 AND "
                                   "key = $2 AND version_id = 'null' RETURNING data_id",
                                   bucket, key);
  for (const auto& r : gone) {
    if (!r[0].is_null()) freed.push_back(r[0].as<std::string>());
  }
}

// Makes the newest version of a key current again when the key has no current row and that
// version is not a delete marker (after a version was deleted by id).
void promoteNewest(pqxx::work& w, const std::string& bucket, const std::string& key) {
  pqxx::result current =
      w.exec_params("SELECT 1 FROM gateway.objects WHERE bucket = $1 AND key = $2", bucket, key);
  if (!current.empty()) return;
  pqxx::result newest = w.exec_params(
      "SELECT version_id, delete_marker FROM gateway.object_versions WHERE bucket = $1 AND "
      "key = $2 ORDER BY seq DESC LIMIT 1",
      bucket, key);
  if (newest.empty() || newest[0][1].as<bool>()) return;
  const std::string version = newest[0][0].as<std::string>();
  w.exec_params0(
      "INSERT INTO gateway.objects (bucket, key, size, etag, content_type, user_metadata, "
      "data_id, last_modified, checksum_algorithm, checksum_value, version_id, seq) SELECT "
      "bucket, key, size, etag, content_type, user_metadata, data_id, last_modified, "
      "checksum_algorithm, checksum_value, version_id, seq FROM gateway.object_versions WHERE "
      "bucket = $1 AND key = $2 AND version_id = $3",
      bucket, key, version);
  w.exec_params0(
      "DELETE FROM gateway.object_versions WHERE bucket = $1 AND key = $2 AND version_id = $3",
      bucket, key, version);
}

// Stores o as the key's new current version inside w if condition holds, following the bucket's
// versioning.
Result<PutOutcome> upsertObject(pqxx::work& w, const ObjectRecord& o,
                                const PutCondition& condition) {
  lockKey(w, o.bucket, o.key);
  // In one statement after the key's lock: the bucket's versioning (share-locked, so the bucket
  // cannot go before the commit), the key's current row and the attributes of its "null"
  // version, which a write to an unversioned bucket replaces.
  pqxx::result state = execPrepared(
      w, "gw_put_state",
      "SELECT b.versioning, o.data_id, o.etag, o.version_id, a.version_id IS NOT NULL, "
      "a.lock_mode, a.retain_until_ms, a.legal_hold, a.tags::text, a.acl FROM gateway.buckets b "
      "LEFT JOIN gateway.objects o ON o.bucket = b.name AND o.key = $2 LEFT JOIN "
      "gateway.version_attributes a ON a.bucket = b.name AND a.key = $2 AND "
      "a.version_id = 'null' WHERE b.name = $1 FOR SHARE OF b",
      o.bucket, o.key);
  if (state.empty()) return noSuchBucket();
  const Result<Versioning> versioning = versioningFrom(state[0][0].as<std::string>());
  struct OldRow {
    std::string data_id, etag, version_id;
  };
  std::vector<OldRow> old;
  if (!state[0][3].is_null()) {
    old.push_back({state[0][1].is_null() ? "" : state[0][1].as<std::string>(),
                   state[0][2].as<std::string>(), state[0][3].as<std::string>()});
  }
  if (condition.if_none_match_any && !old.empty()) return preconditionFailed();
  if (condition.if_match) {
    if (old.empty()) return s3Error("NoSuchKey", "The specified key does not exist.");
    if (old[0].etag != *condition.if_match) return preconditionFailed();
  }
  PutOutcome out;
  out.version_id = *versioning == Versioning::kEnabled ? o.version_id : "null";
  if (!old.empty()) {
    // The current row is overwritten below: a "null" version being replaced by another "null"
    // one loses its data; any other current version is kept as a noncurrent one.
    if (*versioning == Versioning::kUnversioned ||
        (old[0].version_id == "null" && out.version_id == "null")) {
      out.unreferenced.push_back(old[0].data_id);
    } else {
      execPrepared(w, "gw_archive_current", kArchiveCurrent, o.bucket, o.key);
    }
  }
  // An unversioned bucket never had versioning, so it has no noncurrent versions to drop.
  if (out.version_id == "null" && *versioning != Versioning::kUnversioned) {
    dropNullVersion(w, o.bucket, o.key, out.unreferenced);
  }
  execPrepared(
      w, "gw_upsert_object",
      "INSERT INTO gateway.objects (bucket, key, size, etag, content_type, user_metadata, "
      "data_id, last_modified, checksum_algorithm, checksum_value, version_id, seq) VALUES ($1, "
      "$2, $3, $4, $5, $6::jsonb, $7, to_timestamp($8::bigint / 1000.0), NULLIF($9, ''), "
      "NULLIF($10, ''), $11, nextval('gateway.version_seq')) ON CONFLICT (bucket, key) DO UPDATE "
      "SET size = EXCLUDED.size, etag = EXCLUDED.etag, content_type = EXCLUDED.content_type, "
      "user_metadata = EXCLUDED.user_metadata, data_id = EXCLUDED.data_id, "
      "last_modified = EXCLUDED.last_modified, checksum_algorithm = "
      "EXCLUDED.checksum_algorithm, checksum_value = EXCLUDED.checksum_value, "
      "version_id = EXCLUDED.version_id, seq = EXCLUDED.seq",
      o.bucket, o.key, o.size, o.etag, o.content_type, metadataJson(o.user_metadata), o.data_id,
      o.last_modified_ms, o.checksum_algorithm, o.checksum_value, out.version_id);
  if (*versioning == Versioning::kUnversioned) {
    // Nothing above removed a version, so the attributes read with the state are still current.
    std::optional<VersionAttributes> old_null;
    if (state[0][4].as<bool>()) old_null = versionAttributesFrom(state[0], 5);
    DCLOUD_TRY(storeVersionAttributes(w, o, out.version_id, old_null));
  } else {
    DCLOUD_TRY(storeVersionAttributes(w, o, out.version_id));
  }
  return out;
}

Error noSuchUpload() {
  return s3Error("NoSuchUpload",
                 "The specified upload does not exist. The upload ID may be "
                 "invalid, or the upload may have been aborted or completed.");
}

}  // namespace

Result<CreateBucketOutcome> PgMetadataStore::createBucket(const BucketRecord& bucket) {
  Result<CreateBucketOutcome> out =
      pool_->with<CreateBucketOutcome>([&](Conn& c) -> Result<CreateBucketOutcome> {
        pqxx::work w(c);
        pqxx::result inserted = w.exec_params(
            "INSERT INTO gateway.buckets (name, owner, created_at) "
            "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0)) ON CONFLICT (name) DO NOTHING "
            "RETURNING name",
            bucket.name, bucket.owner, bucket.created_ms);
        pqxx::result row = w.exec_params(
            "SELECT " + kBucketColumns + " FROM gateway.buckets WHERE name = $1", bucket.name);
        w.commit();
        if (row.empty()) return conflict("bucket vanished while being created");
        return CreateBucketOutcome{bucketFrom(row[0]), !inserted.empty()};
      });
  bucketChanged(bucket.name);
  return out;
}

Result<BucketRecord> PgMetadataStore::getBucket(const std::string& name) {
  if (std::optional<BucketRecord> cached = buckets_.get(name)) return *cached;
  const std::uint64_t generation = buckets_.generation();
  Result<BucketRecord> read = readBucket(name);
  if (read.ok()) buckets_.put(name, *read, generation);
  return read;
}

Result<BucketRecord> PgMetadataStore::readBucket(const std::string& name) {
  return pool_->with<BucketRecord>([&](Conn& c) -> Result<BucketRecord> {
    // One statement: no transaction needed (saves the BEGIN and COMMIT round trips).
    pqxx::nontransaction w(c);
    pqxx::result row =
        w.exec_params("SELECT " + kBucketColumns + " FROM gateway.buckets WHERE name = $1", name);
    if (row.empty()) return s3Error("NoSuchBucket", "The specified bucket does not exist");
    return bucketFrom(row[0]);
  });
}

Result<std::vector<BucketRecord>> PgMetadataStore::listBuckets(const std::string& owner) {
  using Out = std::vector<BucketRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT " + kBucketColumns + " FROM gateway.buckets WHERE owner = $1 ORDER BY name", owner);
    Out out;
    for (const auto& r : rows) out.push_back(bucketFrom(r));
    return out;
  });
}

Status PgMetadataStore::deleteBucket(const std::string& name) {
  Status out = pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result exists =
        w.exec_params("SELECT 1 FROM gateway.buckets WHERE name = $1 FOR UPDATE", name);
    if (exists.empty()) return s3Error("NoSuchBucket", "The specified bucket does not exist");
    pqxx::result any =
        w.exec_params("SELECT 1 FROM gateway.objects WHERE bucket = $1 LIMIT 1", name);
    if (any.empty()) {
      any = w.exec_params("SELECT 1 FROM gateway.object_versions WHERE bucket = $1 LIMIT 1", name);
    }
    if (!any.empty()) {
      return s3Error("BucketNotEmpty", "The bucket you tried to delete is not empty");
    }
    try {
      w.exec_params0("DELETE FROM gateway.buckets WHERE name = $1", name);
    } catch (const pqxx::foreign_key_violation&) {
      // An object was committed concurrently.
      return s3Error("BucketNotEmpty", "The bucket you tried to delete is not empty");
    }
    w.commit();
    return okStatus();
  });
  bucketChanged(name);
  return out;
}

Result<ObjectRecord> PgMetadataStore::getObject(const std::string& bucket, const std::string& key) {
  return pool_->with<ObjectRecord>([&](Conn& c) -> Result<ObjectRecord> {
    // One statement (no transaction): the row and its version's attributes together.
    pqxx::nontransaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT " + kJoinedObjectColumns +
            ", a.version_id IS NOT NULL, a.lock_mode, a.retain_until_ms, a.legal_hold, "
            "a.tags::text, a.acl FROM gateway.objects o LEFT JOIN gateway.version_attributes a "
            "ON a.bucket = o.bucket AND a.key = o.key AND a.version_id = o.version_id "
            "WHERE o.bucket = $1 AND o.key = $2",
        bucket, key);
    if (row.empty()) return s3Error("NoSuchKey", "The specified key does not exist.");
    ObjectRecord o = objectFrom(row[0], 12);
    o.attributes = VersionAttributes{};
    if (row[0][12].as<bool>()) o.attributes = versionAttributesFrom(row[0], 13);
    return o;
  });
}

Status PgMetadataStore::setBucketVersioning(const std::string& name, Versioning versioning) {
  Status out = pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result row =
        w.exec_params("UPDATE gateway.buckets SET versioning = $2 WHERE name = $1 RETURNING 1",
                      name, versioning == Versioning::kEnabled ? "Enabled" : "Suspended");
    if (row.empty()) return noSuchBucket();
    w.commit();
    return okStatus();
  });
  bucketChanged(name);
  return out;
}

Result<ObjectRecord> PgMetadataStore::getObjectVersion(const std::string& bucket,
                                                       const std::string& key,
                                                       const std::string& version_id) {
  return pool_->with<ObjectRecord>([&](Conn& c) -> Result<ObjectRecord> {
    pqxx::read_transaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT " + kCurrentColumns +
            " FROM gateway.objects WHERE bucket = $1 AND key = $2 AND version_id = $3 "
            "UNION ALL SELECT " +
            kObjectColumns +
            ", delete_marker, false FROM gateway.object_versions WHERE bucket = $1 AND key = $2 "
            "AND version_id = $3",
        bucket, key, version_id);
    if (row.empty()) return s3Error("NoSuchVersion", "The specified version does not exist.");
    ObjectRecord o = objectFrom(row[0]);
    if (!o.is_latest) {
      // A delete marker is the latest version when nothing newer exists.
      pqxx::result newer = w.exec_params(
          "SELECT 1 FROM gateway.objects WHERE bucket = $1 AND key = $2 UNION ALL SELECT 1 FROM "
          "gateway.object_versions WHERE bucket = $1 AND key = $2 AND seq > $3",
          bucket, key, o.seq);
      o.is_latest = newer.empty();
    }
    return o;
  });
}

Result<PutOutcome> PgMetadataStore::putObject(const ObjectRecord& o,
                                              const PutCondition& condition) {
  return pool_->with<PutOutcome>([&](Conn& c) -> Result<PutOutcome> {
    pqxx::work w(c);
    Result<PutOutcome> outcome = upsertObject(w, o, condition);
    if (outcome.ok()) w.commit();
    return outcome;
  });
}

Result<DeleteOutcome> PgMetadataStore::deleteObject(const std::string& bucket,
                                                    const std::string& key,
                                                    const std::optional<std::string>& version_id,
                                                    const std::string& marker_version_id,
                                                    std::int64_t now_ms, bool bypass_governance) {
  return pool_->with<DeleteOutcome>([&](Conn& c) -> Result<DeleteOutcome> {
    pqxx::work w(c);
    lockKey(w, bucket, key);
    Result<Versioning> versioning = lockedVersioning(w, bucket);
    if (!versioning.ok()) return versioning.error();
    DeleteOutcome out;
    if (version_id) {
      DCLOUD_TRY(checkVersionRemovable(w, bucket, key, *version_id, now_ms, bypass_governance));
      pqxx::result current = w.exec_params(
          "DELETE FROM gateway.objects WHERE bucket = $1 AND key = $2 AND version_id = $3 "
          "RETURNING data_id",
          bucket, key, *version_id);
      pqxx::result other = w.exec_params(
          "DELETE FROM gateway.object_versions WHERE bucket = $1 AND key = $2 AND "
          "version_id = $3 RETURNING data_id, delete_marker",
          bucket, key, *version_id);
      for (const auto& r : current) out.unreferenced.push_back(r[0].as<std::string>());
      for (const auto& r : other) {
        if (!r[0].is_null()) out.unreferenced.push_back(r[0].as<std::string>());
        out.delete_marker = r[1].as<bool>();
      }
      out.version_id = *version_id;
      promoteNewest(w, bucket, key);
      w.commit();
      return out;
    }
    pqxx::result current = w.exec_params(
        "SELECT data_id, version_id FROM gateway.objects WHERE bucket = $1 AND key = $2", bucket,
        key);
    if (*versioning == Versioning::kUnversioned) {
      w.exec_params0("DELETE FROM gateway.objects WHERE bucket = $1 AND key = $2", bucket, key);
      w.commit();
      if (!current.empty()) out.unreferenced.push_back(current[0][0].as<std::string>());
      return out;
    }
    out.version_id = *versioning == Versioning::kEnabled ? marker_version_id : "null";
    out.delete_marker = true;
    if (!current.empty()) {
      if (current[0][1].as<std::string>() == "null" && out.version_id == "null") {
        out.unreferenced.push_back(current[0][0].as<std::string>());
      } else {
        w.exec_params0(kArchiveCurrent, bucket, key);
      }
      w.exec_params0("DELETE FROM gateway.objects WHERE bucket = $1 AND key = $2", bucket, key);
    }
    if (out.version_id == "null") dropNullVersion(w, bucket, key, out.unreferenced);
    w.exec_params0(
        "INSERT INTO gateway.object_versions (bucket, key, version_id, seq, delete_marker, size, "
        "etag, content_type, data_id, last_modified) VALUES ($1, $2, $3, "
        "nextval('gateway.version_seq'), true, 0, '', '', NULL, "
        "to_timestamp($4::bigint / 1000.0))",
        bucket, key, out.version_id, now_ms);
    w.commit();
    return out;
  });
}

Result<std::vector<ObjectRecord>> PgMetadataStore::listObjects(const std::string& bucket,
                                                               const std::string& prefix,
                                                               const std::string& from,
                                                               bool inclusive, int limit) {
  using Out = std::vector<ObjectRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    const std::string cmp = inclusive ? ">=" : ">";
    pqxx::result rows = w.exec_params("SELECT " + kObjectColumns +
                                          " FROM gateway.objects WHERE bucket = $1 AND key " + cmp +
                                          " $2 AND key >= $3 AND key LIKE $4 ORDER BY key LIMIT $5",
                                      bucket, from, prefix, likePrefix(prefix), limit);
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(objectFrom(r));
    return out;
  });
}

Result<std::vector<ObjectRecord>> PgMetadataStore::listObjectVersions(const std::string& bucket,
                                                                      const std::string& prefix,
                                                                      const VersionCursor& cursor,
                                                                      int limit) {
  using Out = std::vector<ObjectRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    // $2 key, $3 seq: keys after $2, or (with a seq) older versions of $2 itself.
    std::string position;
    if (cursor.after_seq) {
      position = "(key > $2 OR (key = $2 AND seq < $3))";
    } else {
      position =
          std::string("key ") + (cursor.inclusive ? ">=" : ">") + " $2 AND $3::bigint IS NOT NULL";
    }
    const std::string where =
        " WHERE bucket = $1 AND " + position + " AND key >= $4 AND key LIKE $5";
    pqxx::result rows = w.exec_params(
        "SELECT " + kCurrentColumns + " FROM gateway.objects" + where + " UNION ALL SELECT " +
            kObjectColumns +
            ", delete_marker, NOT EXISTS (SELECT 1 FROM gateway.objects o WHERE o.bucket = "
            "v.bucket AND o.key = v.key) AND seq = (SELECT max(seq) FROM gateway.object_versions "
            "x WHERE x.bucket = v.bucket AND x.key = v.key) FROM gateway.object_versions v" +
            where + " ORDER BY 2, 12 DESC LIMIT $6",
        bucket, cursor.key, cursor.after_seq.value_or(0), prefix, likePrefix(prefix), limit);
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(objectFrom(r));
    return out;
  });
}

Status PgMetadataStore::createUpload(const MultipartUploadRecord& u) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    try {
      w.exec_params0(
          "INSERT INTO gateway.multipart_uploads (upload_id, bucket, key, principal, "
          "content_type, user_metadata, created_at, lock_mode, retain_until_ms, legal_hold, tags, "
          "acl) VALUES ($1, $2, $3, $4, $5, $6::jsonb, to_timestamp($7::bigint / 1000.0), $8, $9, "
          "$10, $11::jsonb, $12)",
          u.upload_id, u.bucket, u.key, u.principal, u.content_type, metadataJson(u.user_metadata),
          u.created_ms, u.attributes.lock_mode, u.attributes.retain_until_ms,
          u.attributes.legal_hold, tagsJson(u.attributes.tags), u.attributes.acl);
    } catch (const pqxx::foreign_key_violation&) {
      return s3Error("NoSuchBucket", "The specified bucket does not exist");
    }
    w.commit();
    return okStatus();
  });
}

Result<MultipartUploadRecord> PgMetadataStore::getUpload(const std::string& upload_id) {
  return pool_->with<MultipartUploadRecord>([&](Conn& c) -> Result<MultipartUploadRecord> {
    pqxx::read_transaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT upload_id, bucket, key, principal, content_type, user_metadata::text, " +
            millisOf("created_at") +
            ", lock_mode, retain_until_ms, legal_hold, tags::text, acl "
            "FROM gateway.multipart_uploads WHERE upload_id = $1",
        upload_id);
    if (row.empty()) return noSuchUpload();
    MultipartUploadRecord u;
    u.upload_id = row[0][0].as<std::string>();
    u.bucket = row[0][1].as<std::string>();
    u.key = row[0][2].as<std::string>();
    u.principal = row[0][3].as<std::string>();
    u.content_type = row[0][4].as<std::string>();
    u.user_metadata = parseMetadata(row[0][5].as<std::string>());
    u.created_ms = row[0][6].as<std::int64_t>();
    u.attributes = versionAttributesFrom(row[0], 7);
    return u;
  });
}

Result<std::optional<std::string>> PgMetadataStore::putPart(const PartRecord& p) {
  using Out = std::optional<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::work w(c);
    // Holding the upload row keeps a concurrent complete or abort from missing this part.
    pqxx::result upload = w.exec_params(
        "SELECT 1 FROM gateway.multipart_uploads WHERE upload_id = $1 FOR SHARE", p.upload_id);
    if (upload.empty()) return noSuchUpload();
    pqxx::result old = w.exec_params(
        "SELECT data_id FROM gateway.multipart_parts WHERE upload_id = $1 AND part_number = $2 "
        "FOR UPDATE",
        p.upload_id, p.part_number);
    w.exec_params0(
        "INSERT INTO gateway.multipart_parts (upload_id, part_number, size, etag, data_id, "
        "uploaded_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1000.0)) "
        "ON CONFLICT (upload_id, part_number) DO UPDATE SET size = EXCLUDED.size, "
        "etag = EXCLUDED.etag, data_id = EXCLUDED.data_id, uploaded_at = EXCLUDED.uploaded_at",
        p.upload_id, p.part_number, p.size, p.etag, p.data_id, p.uploaded_ms);
    w.commit();
    if (old.empty()) return Out{};
    return Out{old[0][0].as<std::string>()};
  });
}

Result<std::vector<PartRecord>> PgMetadataStore::listParts(const std::string& upload_id) {
  using Out = std::vector<PartRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT part_number, size, etag, data_id, COALESCE(" + millisOf("uploaded_at") +
            ", 0) FROM gateway.multipart_parts WHERE upload_id = $1 ORDER BY part_number",
        upload_id);
    Out out;
    for (const auto& r : rows) {
      out.push_back({upload_id, r[0].as<int>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                     r[3].as<std::string>(), r[4].as<std::int64_t>()});
    }
    return out;
  });
}

Result<PutOutcome> PgMetadataStore::completeUpload(const std::string& upload_id,
                                                   const ObjectRecord& object) {
  return pool_->with<PutOutcome>([&](Conn& c) -> Result<PutOutcome> {
    pqxx::work w(c);
    pqxx::result upload = w.exec_params(
        "SELECT 1 FROM gateway.multipart_uploads WHERE upload_id = $1 FOR UPDATE", upload_id);
    if (upload.empty()) return noSuchUpload();
    Result<PutOutcome> outcome = upsertObject(w, object, PutCondition{});
    if (!outcome.ok()) return outcome.error();
    pqxx::result parts = w.exec_params(
        "DELETE FROM gateway.multipart_parts WHERE upload_id = $1 RETURNING data_id", upload_id);
    w.exec_params0("DELETE FROM gateway.multipart_uploads WHERE upload_id = $1", upload_id);
    w.commit();
    for (const auto& r : parts) outcome->unreferenced.push_back(r[0].as<std::string>());
    return outcome;
  });
}

Result<std::vector<std::string>> PgMetadataStore::abortUpload(const std::string& upload_id) {
  using Out = std::vector<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::work w(c);
    pqxx::result upload = w.exec_params(
        "SELECT 1 FROM gateway.multipart_uploads WHERE upload_id = $1 FOR UPDATE", upload_id);
    if (upload.empty()) return noSuchUpload();
    pqxx::result parts = w.exec_params(
        "DELETE FROM gateway.multipart_parts WHERE upload_id = $1 RETURNING data_id", upload_id);
    w.exec_params0("DELETE FROM gateway.multipart_uploads WHERE upload_id = $1", upload_id);
    w.commit();
    Out ids;
    for (const auto& r : parts) ids.push_back(r[0].as<std::string>());
    return ids;
  });
}

Status PgMetadataStore::insertAccessKey(const AccessKeyRow& k) {
  Status out = pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    w.exec_params0(
        "INSERT INTO gateway.access_keys (access_key, secret_sealed, principal, display_name, "
        "scope, created_at, expires_at, revoked) VALUES ($1, $2, $3, $4, $5::jsonb, "
        "to_timestamp($6::bigint / 1000.0), to_timestamp($7::bigint / 1000.0), $8)",
        k.access_key, k.sealed_secret, k.principal, k.display_name, k.scope_json, k.created_ms,
        k.expires_at_ms, k.revoked);
    w.commit();
    return okStatus();
  });
  keys_.invalidate(k.access_key);
  return out;
}

Result<AccessKeyRow> PgMetadataStore::getAccessKey(const std::string& access_key) {
  if (std::optional<AccessKeyRow> cached = keys_.get(access_key)) return *cached;
  const std::uint64_t generation = keys_.generation();
  Result<AccessKeyRow> read = readAccessKey(access_key);
  if (read.ok()) keys_.put(access_key, *read, generation);
  return read;
}

Result<AccessKeyRow> PgMetadataStore::readAccessKey(const std::string& access_key) {
  return pool_->with<AccessKeyRow>([&](Conn& c) -> Result<AccessKeyRow> {
    pqxx::nontransaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT " + kKeyColumns + " FROM gateway.access_keys WHERE access_key = $1", access_key);
    if (row.empty()) return notFound("no such access key");
    return keyFrom(row[0]);
  });
}

Result<std::vector<AccessKeyRow>> PgMetadataStore::listAccessKeys() {
  using Out = std::vector<AccessKeyRow>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows =
        w.exec("SELECT " + kKeyColumns + " FROM gateway.access_keys ORDER BY created_at");
    Out out;
    for (const auto& r : rows) out.push_back(keyFrom(r));
    return out;
  });
}

Status PgMetadataStore::revokeAccessKey(const std::string& access_key) {
  Status out = pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result row = w.exec_params(
        "UPDATE gateway.access_keys SET revoked = true WHERE access_key = $1 RETURNING 1",
        access_key);
    w.commit();
    if (row.empty()) return notFound("no such access key: " + access_key);
    return okStatus();
  });
  keys_.invalidate(access_key);
  return out;
}

}  // namespace dcloud::gateway
