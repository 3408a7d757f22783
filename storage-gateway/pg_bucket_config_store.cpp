// PgMetadataStore: bucket configuration documents, version attributes (Object Lock, tags, ACL)
// and the lifecycle's upload listing (tables of sql/0007_gateway_bucket_config.sql).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "common/json.h"
#include "storage-gateway/object_lock.h"
#include "storage-gateway/pg_bucket_config_store.h"
#include "storage-gateway/pg_metadata_store.h"
#include "storage-gateway/pg_prepared.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

using Conn = pqxx::connection;

const std::string kAttributeColumns = "lock_mode, retain_until_ms, legal_hold, tags::text, acl";

// The same advisory lock as pg_metadata_store.cpp's lockKey: every writer of a key's versions
// or attributes holds it.
void lockKey(pqxx::work& w, const std::string& bucket, const std::string& key) {
  w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", bucket, key);
}

Error noSuchBucket() {
  return s3Error("NoSuchBucket", "The specified bucket does not exist");
}

Error noSuchVersion() {
  return s3Error("NoSuchVersion", "The specified version does not exist.");
}

TagSet parseTags(const std::string& text) {
  TagSet out;
  try {
    Poco::JSON::Parser parser;
    Poco::JSON::Array::Ptr arr = parser.parse(text).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < arr->size(); ++i) {
      Poco::JSON::Array::Ptr pair = arr->getArray(static_cast<unsigned>(i));
      if (pair && pair->size() == 2) {
        out.emplace_back(pair->getElement<std::string>(0), pair->getElement<std::string>(1));
      }
    }
  } catch (const std::exception&) {
    // Written only by this file; an unreadable value reads as no tags.
  }
  return out;
}

std::optional<VersionAttributes> readAttributes(pqxx::transaction_base& w,
                                                const std::string& bucket, const std::string& key,
                                                const std::string& version_id) {
  pqxx::result row = execPrepared(w, "gw_read_attributes",
                                  "SELECT " + kAttributeColumns +
                                      " FROM gateway.version_attributes WHERE bucket = $1 AND "
                                      "key = $2 AND version_id = $3",
                                  bucket, key, version_id);
  if (row.empty()) return std::nullopt;
  return versionAttributesFrom(row[0], 0);
}

void writeAttributes(pqxx::work& w, const std::string& bucket, const std::string& key,
                     const std::string& version_id, const VersionAttributes& a) {
  w.exec_params0(
      "INSERT INTO gateway.version_attributes (bucket, key, version_id, lock_mode, "
      "retain_until_ms, legal_hold, tags, acl) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) "
      "ON CONFLICT (bucket, key, version_id) DO UPDATE SET lock_mode = EXCLUDED.lock_mode, "
      "retain_until_ms = EXCLUDED.retain_until_ms, legal_hold = EXCLUDED.legal_hold, "
      "tags = EXCLUDED.tags, acl = EXCLUDED.acl",
      bucket, key, version_id, a.lock_mode, a.retain_until_ms, a.legal_hold, tagsJson(a.tags),
      a.acl);
}

}  // namespace

std::string tagsJson(const TagSet& tags) {
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& [k, v] : tags) {
    Poco::JSON::Array::Ptr pair = new Poco::JSON::Array;
    pair->add(k);
    pair->add(v);
    arr->add(pair);
  }
  return toJson(arr);
}

VersionAttributes versionAttributesFrom(const pqxx::row& r, pqxx::row::size_type first) {
  VersionAttributes a;
  a.lock_mode = r[first].as<std::string>();
  a.retain_until_ms = r[first + 1].as<std::int64_t>();
  a.legal_hold = r[first + 2].as<bool>();
  a.tags = parseTags(r[first + 3].as<std::string>());
  a.acl = r[first + 4].as<std::string>();
  return a;
}

Status checkVersionRemovable(pqxx::work& w, const std::string& bucket, const std::string& key,
                             const std::string& version_id, std::int64_t now_ms,
                             bool bypass_governance) {
  std::optional<VersionAttributes> a = readAttributes(w, bucket, key, version_id);
  if (!a) return okStatus();
  return checkRemovable(*a, now_ms, bypass_governance);
}

Status storeVersionAttributes(pqxx::work& w, const ObjectRecord& object,
                              const std::string& version_id) {
  std::optional<VersionAttributes> old;
  if (version_id == "null") old = readAttributes(w, object.bucket, object.key, version_id);
  return storeVersionAttributes(w, object, version_id, old);
}

Status storeVersionAttributes(pqxx::work& w, const ObjectRecord& object,
                              const std::string& version_id,
                              const std::optional<VersionAttributes>& old) {
  if (version_id == "null") {
    if (old) {
      DCLOUD_TRY(checkRemovable(*old, object.last_modified_ms, false));
      w.exec_params0(
          "DELETE FROM gateway.version_attributes WHERE bucket = $1 AND key = $2 AND "
          "version_id = $3",
          object.bucket, object.key, version_id);
    }
  }
  if (object.attributes && !object.attributes->empty()) {
    writeAttributes(w, object.bucket, object.key, version_id, *object.attributes);
  }
  return okStatus();
}

Result<CreateBucketOutcome> PgMetadataStore::createBucketWith(
    const BucketRecord& bucket, const std::map<std::string, std::string>& documents) {
  Result<CreateBucketOutcome> result =
      pool_->with<CreateBucketOutcome>([&](Conn& c) -> Result<CreateBucketOutcome> {
        pqxx::work w(c);
        const char* versioning = bucket.versioning == Versioning::kEnabled     ? "Enabled"
                                 : bucket.versioning == Versioning::kSuspended ? "Suspended"
                                                                               : "";
        pqxx::result inserted = w.exec_params(
            "INSERT INTO gateway.buckets (name, owner, created_at, versioning) "
            "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4) ON CONFLICT (name) DO NOTHING "
            "RETURNING name",
            bucket.name, bucket.owner, bucket.created_ms, versioning);
        if (!inserted.empty()) {
          for (const auto& [kind, body] : documents) {
            w.exec_params0(
                "INSERT INTO gateway.bucket_documents (bucket, kind, body) VALUES ($1, $2, $3)",
                bucket.name, kind, body);
          }
        }
        pqxx::result row = w.exec_params(
            "SELECT name, owner, (extract(epoch from created_at) * 1000)::bigint, versioning FROM "
            "gateway.buckets WHERE name = $1",
            bucket.name);
        w.commit();
        if (row.empty()) return conflict("bucket vanished while being created");
        BucketRecord out{row[0][0].as<std::string>(), row[0][1].as<std::string>(),
                         row[0][2].as<std::int64_t>(), Versioning::kUnversioned};
        const std::string v = row[0][3].as<std::string>();
        out.versioning = v == "Enabled"     ? Versioning::kEnabled
                         : v == "Suspended" ? Versioning::kSuspended
                                            : Versioning::kUnversioned;
        return CreateBucketOutcome{out, !inserted.empty()};
      });
  bucketChanged(bucket.name);
  return result;
}

Result<std::map<std::string, std::string>> PgMetadataStore::getBucketDocuments(
    const std::string& bucket) {
  using Out = std::map<std::string, std::string>;
  if (std::optional<Out> cached = documents_.get(bucket)) return *cached;
  const std::uint64_t generation = documents_.generation();
  Result<Out> read = readBucketDocuments(bucket);
  if (read.ok()) documents_.put(bucket, *read, generation);
  return read;
}

Result<std::map<std::string, std::string>> PgMetadataStore::readBucketDocuments(
    const std::string& bucket) {
  using Out = std::map<std::string, std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::nontransaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT d.kind, d.body FROM gateway.buckets b LEFT JOIN gateway.bucket_documents d ON "
        "d.bucket = b.name WHERE b.name = $1",
        bucket);
    if (rows.empty()) return noSuchBucket();
    Out out;
    for (const auto& r : rows) {
      if (!r[0].is_null()) out[r[0].as<std::string>()] = r[1].as<std::string>();
    }
    return out;
  });
}

Status PgMetadataStore::putBucketDocument(const std::string& bucket, const std::string& kind,
                                          const std::optional<std::string>& body) {
  Status out = pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    pqxx::result b =
        w.exec_params("SELECT versioning FROM gateway.buckets WHERE name = $1 FOR UPDATE", bucket);
    if (b.empty()) return noSuchBucket();
    if (kind == "object-lock" && body && b[0][0].as<std::string>() != "Enabled") {
      return s3Error("InvalidBucketState",
                     "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                     "configuration");
    }
    if (body) {
      w.exec_params0(
          "INSERT INTO gateway.bucket_documents (bucket, kind, body) VALUES ($1, $2, $3) "
          "ON CONFLICT (bucket, kind) DO UPDATE SET body = EXCLUDED.body",
          bucket, kind, *body);
    } else {
      w.exec_params0("DELETE FROM gateway.bucket_documents WHERE bucket = $1 AND kind = $2", bucket,
                     kind);
    }
    w.commit();
    return okStatus();
  });
  bucketChanged(bucket);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> PgMetadataStore::listBucketDocuments(
    const std::string& kind) {
  using Out = std::vector<std::pair<std::string, std::string>>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT bucket, body FROM gateway.bucket_documents WHERE kind = $1 ORDER BY bucket", kind);
    Out out;
    for (const auto& r : rows) out.emplace_back(r[0].as<std::string>(), r[1].as<std::string>());
    return out;
  });
}

Result<VersionAttributes> PgMetadataStore::getVersionAttributes(const std::string& bucket,
                                                                const std::string& key,
                                                                const std::string& version_id) {
  return pool_->with<VersionAttributes>([&](Conn& c) -> Result<VersionAttributes> {
    pqxx::nontransaction w(c);
    std::optional<VersionAttributes> a = readAttributes(w, bucket, key, version_id);
    if (a) return *a;
    return VersionAttributes{};
  });
}

Status PgMetadataStore::updateVersionAttributes(
    const std::string& bucket, const std::string& key, const std::string& version_id,
    const std::function<Status(VersionAttributes&)>& update) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    lockKey(w, bucket, key);
    pqxx::result version = w.exec_params(
        "SELECT false FROM gateway.objects WHERE bucket = $1 AND key = $2 AND version_id = $3 "
        "UNION ALL SELECT delete_marker FROM gateway.object_versions WHERE bucket = $1 AND "
        "key = $2 AND version_id = $3",
        bucket, key, version_id);
    if (version.empty()) return noSuchVersion();
    if (version[0][0].as<bool>()) {
      return s3Error("MethodNotAllowed",
                     "The specified method is not allowed against this resource.");
    }
    VersionAttributes a = readAttributes(w, bucket, key, version_id).value_or(VersionAttributes{});
    DCLOUD_TRY(update(a));
    if (a.empty()) {
      w.exec_params0(
          "DELETE FROM gateway.version_attributes WHERE bucket = $1 AND key = $2 AND "
          "version_id = $3",
          bucket, key, version_id);
    } else {
      writeAttributes(w, bucket, key, version_id, a);
    }
    w.commit();
    return okStatus();
  });
}

Result<std::vector<MultipartUploadRecord>> PgMetadataStore::listUploadsInitiatedBefore(
    const std::string& bucket, std::int64_t before_ms, int limit) {
  using Out = std::vector<MultipartUploadRecord>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT upload_id, key, principal, (extract(epoch from created_at) * 1000)::bigint FROM "
        "gateway.multipart_uploads WHERE bucket = $1 AND created_at < "
        "to_timestamp($2::bigint / 1000.0) ORDER BY created_at LIMIT $3",
        bucket, before_ms, limit);
    Out out;
    for (const auto& r : rows) {
      MultipartUploadRecord u;
      u.upload_id = r[0].as<std::string>();
      u.bucket = bucket;
      u.key = r[1].as<std::string>();
      u.principal = r[2].as<std::string>();
      u.created_ms = r[3].as<std::int64_t>();
      out.push_back(std::move(u));
    }
    return out;
  });
}

}  // namespace dcloud::gateway
