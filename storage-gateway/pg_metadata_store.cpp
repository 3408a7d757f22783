#include "storage-gateway/pg_metadata_store.h"

#include <Poco/JSON/Object.h>

#include "common/json.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

using Conn = pqxx::connection;

std::string millisOf(const char* column) {
  return std::string("(extract(epoch from ") + column + ") * 1000)::bigint";
}

const std::string kObjectColumns =
    "bucket, key, size, etag, content_type, user_metadata::text, "
    "data_id, " +
    millisOf("last_modified") + ", coalesce(checksum_algorithm, ''), coalesce(checksum_value, '')";
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

BucketRecord bucketFrom(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>()};
}

ObjectRecord objectFrom(const pqxx::row& r) {
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
  return o;
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

// Inserts or replaces o inside w if condition holds; returns the data id it replaced.
Result<std::optional<std::string>> upsertObject(pqxx::work& w, const ObjectRecord& o,
                                                const PutCondition& condition) {
  using Out = std::optional<std::string>;
  // Serialises writers of one key, so each replaced data id is reported to exactly one of them
  // (a plain upsert would lose the old id when two first writers race) and a condition checked
  // here still holds at the commit.
  w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", o.bucket, o.key);
  pqxx::result old = w.exec_params(
      "SELECT data_id, etag FROM gateway.objects WHERE bucket = $1 AND key = $2", o.bucket, o.key);
  if (condition.if_none_match_any && !old.empty()) return preconditionFailed();
  if (condition.if_match) {
    if (old.empty()) return s3Error("NoSuchKey", "The specified key does not exist.");
    if (old[0][1].as<std::string>() != *condition.if_match) return preconditionFailed();
  }
  try {
    w.exec_params0(
        "INSERT INTO gateway.objects (bucket, key, size, etag, content_type, user_metadata, "
        "data_id, last_modified, checksum_algorithm, checksum_value) VALUES ($1, $2, $3, $4, "
        "$5, $6::jsonb, $7, to_timestamp($8::bigint / 1000.0), NULLIF($9, ''), "
        "NULLIF($10, '')) ON CONFLICT (bucket, key) DO UPDATE SET "
        "size = EXCLUDED.size, etag = EXCLUDED.etag, content_type = EXCLUDED.content_type, "
        "user_metadata = EXCLUDED.user_metadata, data_id = EXCLUDED.data_id, "
        "last_modified = EXCLUDED.last_modified, checksum_algorithm = "
        "EXCLUDED.checksum_algorithm, checksum_value = EXCLUDED.checksum_value",
        o.bucket, o.key, o.size, o.etag, o.content_type, metadataJson(o.user_metadata), o.data_id,
        o.last_modified_ms, o.checksum_algorithm, o.checksum_value);
  } catch (const pqxx::foreign_key_violation&) {
    return s3Error("NoSuchBucket", "The specified bucket does not exist");
  }
  if (old.empty()) return Out{};
  return Out{old[0][0].as<std::string>()};
}

Error noSuchUpload() {
  return s3Error("NoSuchUpload",
                 "The specified upload does not exist. The upload ID may be "
                 "invalid, or the upload may have been aborted or completed.");
}

}  // namespace

Result<CreateBucketOutcome> PgMetadataStore::createBucket(const BucketRecord& bucket) {
  return pool_->with<CreateBucketOutcome>([&](Conn& c) -> Result<CreateBucketOutcome> {
    pqxx::work w(c);
    pqxx::result inserted = w.exec_params(
        "INSERT INTO gateway.buckets (name, owner, created_at) "
        "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0)) ON CONFLICT (name) DO NOTHING "
        "RETURNING name",
        bucket.name, bucket.owner, bucket.created_ms);
    pqxx::result row = w.exec_params(
        "SELECT name, owner, " + millisOf("created_at") + " FROM gateway.buckets WHERE name = $1",
        bucket.name);
    w.commit();
    if (row.empty()) return conflict("bucket vanished while being created");
    return CreateBucketOutcome{bucketFrom(row[0]), !inserted.empty()};
  });
}

Result<BucketRecord> PgMetadataStore::getBucket(const std::string& name) {
  return pool_->with<BucketRecord>([&](Conn& c) -> Result<BucketRecord> {
    pqxx::read_transaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT name, owner, " + millisOf("created_at") + " FROM gateway.buckets WHERE name = $1",
        name);
    if (row.empty()) return s3Error("NoSuchBucket", "The specified bucket does not exist");
    return bucketFrom(row[0]);
  });
}

Result<std::vector<BucketRecord>> PgMetadataStore::listBuckets(const std::string& owner) {
  using Out = std::vector<BucketRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params("SELECT name, owner, " + millisOf("created_at") +
                                          " FROM gateway.buckets WHERE owner = $1 ORDER BY name",
                                      owner);
    Out out;
    for (const auto& r : rows) out.push_back(bucketFrom(r));
    return out;
  });
}

Status PgMetadataStore::deleteBucket(const std::string& name) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result exists =
        w.exec_params("SELECT 1 FROM gateway.buckets WHERE name = $1 FOR UPDATE", name);
    if (exists.empty()) return s3Error("NoSuchBucket", "The specified bucket does not exist");
    pqxx::result any =
        w.exec_params("SELECT 1 FROM gateway.objects WHERE bucket = $1 LIMIT 1", name);
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
}

Result<ObjectRecord> PgMetadataStore::getObject(const std::string& bucket, const std::string& key) {
  return pool_->with<ObjectRecord>([&](Conn& c) -> Result<ObjectRecord> {
    pqxx::read_transaction w(c);
    pqxx::result row = w.exec_params(
        "SELECT " + kObjectColumns + " FROM gateway.objects WHERE bucket = $1 AND key = $2", bucket,
        key);
    if (row.empty()) return s3Error("NoSuchKey", "The specified key does not exist.");
    return objectFrom(row[0]);
  });
}

Result<std::optional<std::string>> PgMetadataStore::putObject(const ObjectRecord& o,
                                                              const PutCondition& condition) {
  using Out = std::optional<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::work w(c);
    Result<Out> previous = upsertObject(w, o, condition);
    if (previous.ok()) w.commit();
    return previous;
  });
}

Result<std::optional<std::string>> PgMetadataStore::deleteObject(const std::string& bucket,
                                                                 const std::string& key) {
  using Out = std::optional<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::work w(c);
    w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", bucket, key);
    pqxx::result row = w.exec_params(
        "DELETE FROM gateway.objects WHERE bucket = $1 AND key = $2 RETURNING data_id", bucket,
        key);
    w.commit();
    if (row.empty()) return Out{};
    return Out{row[0][0].as<std::string>()};
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

Status PgMetadataStore::createUpload(const MultipartUploadRecord& u) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    try {
      w.exec_params0(
          "INSERT INTO gateway.multipart_uploads (upload_id, bucket, key, principal, "
          "content_type, user_metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, "
          "to_timestamp($7::bigint / 1000.0))",
          u.upload_id, u.bucket, u.key, u.principal, u.content_type, metadataJson(u.user_metadata),
          u.created_ms);
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
            millisOf("created_at") + " FROM gateway.multipart_uploads WHERE upload_id = $1",
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
        "INSERT INTO gateway.multipart_parts (upload_id, part_number, size, etag, data_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (upload_id, part_number) DO UPDATE SET "
        "size = EXCLUDED.size, etag = EXCLUDED.etag, data_id = EXCLUDED.data_id",
        p.upload_id, p.part_number, p.size, p.etag, p.data_id);
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
        "SELECT part_number, size, etag, data_id FROM gateway.multipart_parts "
        "WHERE upload_id = $1 ORDER BY part_number",
        upload_id);
    Out out;
    for (const auto& r : rows) {
      out.push_back({upload_id, r[0].as<int>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                     r[3].as<std::string>()});
    }
    return out;
  });
}

Result<std::vector<std::string>> PgMetadataStore::completeUpload(const std::string& upload_id,
                                                                 const ObjectRecord& object) {
  using Out = std::vector<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::work w(c);
    pqxx::result upload = w.exec_params(
        "SELECT 1 FROM gateway.multipart_uploads WHERE upload_id = $1 FOR UPDATE", upload_id);
    if (upload.empty()) return noSuchUpload();
    Result<std::optional<std::string>> previous = upsertObject(w, object, PutCondition{});
    if (!previous.ok()) return previous.error();
    pqxx::result parts = w.exec_params(
        "DELETE FROM gateway.multipart_parts WHERE upload_id = $1 RETURNING data_id", upload_id);
    w.exec_params0("DELETE FROM gateway.multipart_uploads WHERE upload_id = $1", upload_id);
    w.commit();
    Out unreferenced;
    for (const auto& r : parts) unreferenced.push_back(r[0].as<std::string>());
    if (previous->has_value()) unreferenced.push_back(**previous);
    return unreferenced;
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
  return pool_->withStatus([&](Conn& c) -> Status {
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
}

Result<AccessKeyRow> PgMetadataStore::getAccessKey(const std::string& access_key) {
  return pool_->with<AccessKeyRow>([&](Conn& c) -> Result<AccessKeyRow> {
    pqxx::read_transaction w(c);
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
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result row = w.exec_params(
        "UPDATE gateway.access_keys SET revoked = true WHERE access_key = $1 RETURNING 1",
        access_key);
    w.commit();
    if (row.empty()) return notFound("no such access key: " + access_key);
    return okStatus();
  });
}

}  // namespace dcloud::gateway
