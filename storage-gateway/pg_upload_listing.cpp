// PgMetadataStore::listUploads (kept apart from pg_metadata_store.cpp, which is long enough).
#include "storage-gateway/pg_metadata_store.h"

#include "common/json.h"

namespace dcloud::gateway {

Result<std::vector<MultipartUploadRecord>> PgMetadataStore::listUploads(
    const std::string& bucket, const std::string& prefix, const std::string& after_key,
    const std::string& after_upload_id, int limit) {
  using Out = std::vector<MultipartUploadRecord>;
  std::string like;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') like += '\\';
    like += c;
  }
  like += '%';
  return pool_->with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT upload_id, key, principal, content_type, "
        "(extract(epoch from created_at) * 1000)::bigint FROM gateway.multipart_uploads "
        "WHERE bucket = $1 AND key LIKE $2 AND key >= $3 AND (key > $4 OR (key = $4 AND "
        "upload_id COLLATE \"C\" > $5)) ORDER BY key, upload_id COLLATE \"C\" LIMIT $6",
        bucket, like, prefix, after_key, after_upload_id, limit);
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      MultipartUploadRecord u;
      u.upload_id = r[0].as<std::string>();
      u.bucket = bucket;
      u.key = r[1].as<std::string>();
      u.principal = r[2].as<std::string>();
      u.content_type = r[3].as<std::string>();
      u.created_ms = r[4].as<std::int64_t>();
      out.push_back(std::move(u));
    }
    return out;
  });
}

}  // namespace dcloud::gateway
