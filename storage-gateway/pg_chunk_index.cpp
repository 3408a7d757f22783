#include "storage-gateway/pg_chunk_index.h"

#include <map>

#include "common/crypto.h"

#include "storage-gateway/pg_prepared.h"

namespace dcloud::gateway {
namespace {

using Conn = pqxx::connection;

// pqxx 6 has no array parameters: lists travel as PostgreSQL array literals (pgTextArray).
std::string intArray(const std::vector<std::int64_t>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(items[i]);
  }
  return out + "}";
}

// bytea[] literal: each element in hex form (\\x...), NULL for an empty one.
std::string byteaArray(const std::vector<const std::string*>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i]->empty() ? "NULL" : "\"\\\\x" + toHex(*items[i]) + '"';
  }
  return out + "}";
}

// A manifest's refs as the array parameters of the upsert and append below: the chunk rows
// ($4 names, $5 sizes, $9 sealed bytes), each distinct name once in name order (the lock order)
// with its sealed bytes where a reference carries them, and the manifest entries ($6 offsets,
// $7 names, $8 sizes) in the refs' order.
struct ManifestParams {
  std::string names, sizes, sealed, offsets, ref_names, ref_sizes;
};

ManifestParams manifestParams(const std::vector<ChunkRef>& refs) {
  std::map<std::string, const ChunkRef*> unique;
  std::vector<std::string> ref_names;
  std::vector<std::int64_t> offsets, ref_sizes;
  for (const ChunkRef& r : refs) {
    auto [it, fresh] = unique.emplace(r.name, &r);
    if (!fresh && it->second->sealed.empty()) it->second = &r;
    ref_names.push_back(r.name);
    offsets.push_back(r.offset);
    ref_sizes.push_back(r.size);
  }
  std::vector<std::string> names;
  std::vector<std::int64_t> sizes;
  std::vector<const std::string*> sealed;
  for (const auto& [name, ref] : unique) {
    names.push_back(name);
    sizes.push_back(ref->size);
    sealed.push_back(&ref->sealed);
  }
  return {pgTextArray(names), intArray(sizes),        byteaArray(sealed),
          intArray(offsets),  pgTextArray(ref_names), intArray(ref_sizes)};
}

// Upserts the chunk rows ($4 names, $5 sizes, $9 sealed bytes) touched at $3 for bucket $2; a
// row keeps the sealed bytes it has (equal names are equal contents).
constexpr const char* kUpsertChunks =
    "INSERT INTO gateway.chunks (name, bucket, size, touched_ms, sealed) SELECT n, $2, sz, $3, "
    "sl FROM unnest($4::text[], $5::bigint[], $9::bytea[]) AS u(n, sz, sl) ORDER BY n ON "
    "CONFLICT (name) DO UPDATE SET touched_ms = EXCLUDED.touched_ms, sealed = "
    "coalesce(gateway.chunks.sealed, EXCLUDED.sealed)";

ChunkRef refFromRow(const pqxx::row& r, int first) {
  ChunkRef ref{r[first].as<std::int64_t>(),
               r[first + 1].as<std::string>(),
               r[first + 2].as<std::int64_t>(),
               {}};
  if (!r[first + 3].is_null()) ref.sealed = pqxx::binarystring(r[first + 3]).str();
  return ref;
}

}  // namespace

Result<std::string> PgChunkIndex::bucketKey(const std::string& bucket,
                                            const std::string& sealed_if_new) {
  return pool_->with<std::string>([&](Conn& c) -> Result<std::string> {
    pqxx::work w(c);
    w.exec_params0(
        "INSERT INTO gateway.bucket_keys (bucket, sealed_key) VALUES ($1, $2) "
        "ON CONFLICT (bucket) DO NOTHING",
        bucket, sealed_if_new);
    pqxx::result row =
        w.exec_params("SELECT sealed_key FROM gateway.bucket_keys WHERE bucket = $1", bucket);
    w.commit();
    if (row.empty()) return internalError("bucket key vanished");
    return row[0][0].as<std::string>();
  });
}

Status PgChunkIndex::appendRefs(const std::string& blob_id, const std::string& bucket,
                                const std::vector<ChunkRef>& refs,
                                const std::optional<std::int64_t>& final_size,
                                std::int64_t now_ms) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    // Asynchronous commit: set_config(..., true) is SET LOCAL, run in the same statement.
    const std::string touch =
        "INSERT INTO gateway.blobs (blob_id, bucket, touched_ms) SELECT $1, $2, $3 FROM (SELECT "
        "set_config('synchronous_commit', 'off', true)) s ON CONFLICT (blob_id) DO UPDATE SET "
        "touched_ms = EXCLUDED.touched_ms";
    if (refs.empty()) {
      execPrepared(w, "gw_touch_blob", touch, blob_id, bucket, now_ms);
    } else {
      const ManifestParams p = manifestParams(refs);
      // One statement (one round trip): touch the blob, upsert the chunk rows in name order
      // (writers sharing chunks lock them in the same order: no deadlock), append the manifest
      // entries (their foreign keys are checked at the statement's end, seeing both upserts).
      execPrepared(w, "gw_append_refs_inline",
                   "WITH b AS (" + touch + "), c AS (" + kUpsertChunks +
                       ") INSERT INTO gateway.blob_chunks (blob_id, \"offset\", chunk, size) "
                       "SELECT $1, o, n, sz FROM unnest($6::bigint[], $7::text[], $8::bigint[]) "
                       "AS u(o, n, sz)",
                   blob_id, bucket, now_ms, p.names, p.sizes, p.offsets, p.ref_names, p.ref_sizes,
                   p.sealed);
    }
    if (final_size) {
      // The manifest must add up (it would not if the collector had taken an abandoned blob).
      pqxx::result done = execPrepared(
          w, "gw_complete_blob",
          "UPDATE gateway.blobs SET complete = true, size = $2 WHERE blob_id = $1 AND $2 = "
          "(SELECT coalesce(sum(size), 0) FROM gateway.blob_chunks WHERE blob_id = $1) "
          "RETURNING 1",
          blob_id, *final_size);
      if (done.empty()) return internalError("manifest of " + blob_id + " is incomplete");
    }
    w.commit();
    return okStatus();
  });
}

Status PgChunkIndex::createComplete(const std::string& blob_id, const std::string& bucket,
                                    const std::vector<ChunkRef>& refs, std::int64_t size,
                                    std::int64_t now_ms) {
  std::int64_t total = 0;
  for (const ChunkRef& r : refs) total += r.size;
  if (total != size) return internalError("manifest of " + blob_id + " does not add up");
  const ManifestParams p = manifestParams(refs);
  return pool_->withStatus([&](Conn& c) -> Status {
    // A single statement is its own transaction; set_config(..., true) makes its commit
    // asynchronous like appendRefs' (the object's commit flushes it). A plain INSERT of the
    // blob: its id is new, so it conflicts with nothing (and must not).
    pqxx::nontransaction w(c);
    execPrepared(w, "gw_create_complete_inline",
                 std::string("WITH b AS (INSERT INTO gateway.blobs (blob_id, bucket, touched_ms, "
                             "complete, size) SELECT $1, $2, $3, true, $10 FROM (SELECT "
                             "set_config('synchronous_commit', 'off', true)) s), c AS (") +
                     kUpsertChunks +
                     ") INSERT INTO gateway.blob_chunks (blob_id, \"offset\", chunk, size) "
                     "SELECT $1, o, n, sz FROM unnest($6::bigint[], $7::text[], $8::bigint[]) "
                     "AS u(o, n, sz)",
                 blob_id, bucket, now_ms, p.names, p.sizes, p.offsets, p.ref_names, p.ref_sizes,
                 p.sealed, size);
    return okStatus();
  });
}

Result<BlobInfo> PgChunkIndex::blob(const std::string& blob_id, int first_refs) {
  return pool_->with<BlobInfo>([&](Conn& c) -> Result<BlobInfo> {
    // Single statements need no transaction (saves the BEGIN and COMMIT round trips).
    pqxx::nontransaction w(c);
    pqxx::result rows = execPrepared(
        w, "gw_blob_inline",
        "SELECT b.bucket, b.size, b.complete, b.deleted_ms IS NOT NULL, r.\"offset\", r.chunk, "
        "r.size, r.sealed FROM gateway.blobs b LEFT JOIN LATERAL (SELECT bc.\"offset\", "
        "bc.chunk, bc.size, c.sealed FROM gateway.blob_chunks bc LEFT JOIN gateway.chunks c ON "
        "bc.size <= $3 AND c.name = bc.chunk WHERE bc.blob_id = b.blob_id ORDER BY bc.\"offset\" "
        "LIMIT $2) r ON true WHERE b.blob_id = $1 ORDER BY r.\"offset\"",
        blob_id, first_refs, static_cast<std::int64_t>(kInlineChunkBytes));
    if (rows.empty()) return notFound("no data for id " + blob_id);
    BlobInfo info{rows[0][0].as<std::string>(),
                  rows[0][1].as<std::int64_t>(),
                  rows[0][2].as<bool>(),
                  rows[0][3].as<bool>(),
                  {}};
    for (const auto& r : rows) {
      if (r[4].is_null()) continue;
      info.first_refs.push_back(refFromRow(r, 4));
    }
    return info;
  });
}

Result<std::vector<ChunkRef>> PgChunkIndex::refsFrom(const std::string& blob_id, std::int64_t pos,
                                                     int limit) {
  using Out = std::vector<ChunkRef>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::nontransaction w(c);
    // Chunks are at most kChunkBytes long: the bound on offset keeps this an index range scan.
    pqxx::result rows = execPrepared(
        w, "gw_refs_from_inline",
        "SELECT bc.\"offset\", bc.chunk, bc.size, c.sealed FROM gateway.blob_chunks bc LEFT "
        "JOIN gateway.chunks c ON bc.size <= $5 AND c.name = bc.chunk WHERE bc.blob_id = $1 AND "
        "bc.\"offset\" > $2::bigint - $3::bigint AND bc.\"offset\" + bc.size > $2::bigint "
        "ORDER BY bc.\"offset\" LIMIT $4",
        blob_id, pos, static_cast<std::int64_t>(kChunkBytes), limit,
        static_cast<std::int64_t>(kInlineChunkBytes));
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(refFromRow(r, 0));
    return out;
  });
}

Result<std::set<std::string>> PgChunkIndex::inlineChunks(const std::vector<std::string>& names) {
  using Out = std::set<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::nontransaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT name FROM gateway.chunks WHERE name = ANY($1::text[]) AND sealed IS NOT NULL",
        pgTextArray(names));
    Out out;
    for (const auto& r : rows) out.insert(r[0].as<std::string>());
    return out;
  });
}

Status PgChunkIndex::markDeleted(const std::string& blob_id, std::int64_t now_ms) {
  return pool_->withStatus([&](Conn& c) -> Status {
    pqxx::work w(c);
    w.exec_params0(
        "UPDATE gateway.blobs SET deleted_ms = $2 WHERE blob_id = $1 AND deleted_ms IS NULL",
        blob_id, now_ms);
    w.commit();
    return okStatus();
  });
}

Result<int> PgChunkIndex::dropBlobs(std::int64_t cutoff_ms) {
  return pool_->with<int>([&](Conn& c) -> Result<int> {
    pqxx::work w(c);
    pqxx::result gone = w.exec_params(
        "DELETE FROM gateway.blobs b WHERE (deleted_ms IS NOT NULL AND deleted_ms < $1) OR "
        "(deleted_ms IS NULL AND touched_ms < $1 AND (NOT complete OR ("
        "NOT EXISTS (SELECT 1 FROM gateway.objects o WHERE o.data_id = b.blob_id) AND "
        "NOT EXISTS (SELECT 1 FROM gateway.object_versions v WHERE v.data_id = b.blob_id) AND "
        "NOT EXISTS (SELECT 1 FROM gateway.multipart_parts p WHERE p.data_id = b.blob_id)))) "
        "RETURNING 1",
        cutoff_ms);
    w.commit();
    return static_cast<int>(gone.size());
  });
}

Result<std::vector<std::string>> PgChunkIndex::unreferencedChunks(std::int64_t cutoff_ms,
                                                                  int limit) {
  using Out = std::vector<std::string>;
  return pool_->with<Out>([&](Conn& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    pqxx::result rows = w.exec_params(
        "SELECT name FROM gateway.chunks c WHERE touched_ms < $1 AND NOT EXISTS (SELECT 1 FROM "
        "gateway.blob_chunks r WHERE r.chunk = c.name) LIMIT $2",
        cutoff_ms, limit);
    Out out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
  });
}

Result<int> PgChunkIndex::collectChunks(
    const std::vector<std::string>& names, std::int64_t cutoff_ms,
    const std::function<Status(const std::vector<std::string>&)>& remove_files) {
  return pool_->with<int>([&](Conn& c) -> Result<int> {
    pqxx::work w(c);
    // The lock excludes writers: they upsert the row (FOR UPDATE vs. row update) or reference it
    // (FOR UPDATE vs. the foreign key's KEY SHARE) and wait until this transaction ends.
    pqxx::result locked = w.exec_params(
        "SELECT name FROM gateway.chunks WHERE name = ANY($1::text[]) AND touched_ms < $2 "
        "ORDER BY name FOR UPDATE SKIP LOCKED",
        pgTextArray(names), cutoff_ms);
    std::vector<std::string> candidates;
    for (const auto& r : locked) candidates.push_back(r[0].as<std::string>());
    if (candidates.empty()) return 0;
    // A new statement: it sees every reference committed before the locks were taken.
    pqxx::result referenced = w.exec_params(
        "SELECT DISTINCT chunk FROM gateway.blob_chunks WHERE chunk = ANY($1::text[])",
        pgTextArray(candidates));
    std::vector<std::string> dead;
    for (const std::string& name : candidates) {
      bool used = false;
      for (const auto& r : referenced) used = used || r[0].as<std::string>() == name;
      if (!used) dead.push_back(name);
    }
    if (dead.empty()) return 0;
    // Files go first, under the locks: a writer that finds the row gone afterwards writes the
    // file again; a crash here leaves rows without files, which writers heal (they check the
    // file) and the next collection deletes.
    Status removed = remove_files(dead);
    if (!removed.ok()) return removed.error();
    w.exec_params0("DELETE FROM gateway.chunks WHERE name = ANY($1::text[])", pgTextArray(dead));
    w.commit();
    return static_cast<int>(dead.size());
  });
}

Result<int> PgChunkIndex::adoptFiles(const std::vector<std::string>& names) {
  return pool_->with<int>([&](Conn& c) -> Result<int> {
    pqxx::work w(c);
    pqxx::result added = w.exec_params(
        "INSERT INTO gateway.chunks (name, bucket, size, touched_ms) SELECT n, '', 0, 0 FROM "
        "unnest($1::text[]) AS u(n) ON CONFLICT (name) DO NOTHING RETURNING 1",
        pgTextArray(names));
    w.commit();
    return static_cast<int>(added.size());
  });
}

Result<std::int64_t> PgChunkIndex::liveBlobCount() {
  return pool_->with<std::int64_t>([&](Conn& c) -> Result<std::int64_t> {
    pqxx::read_transaction w(c);
    return w.exec("SELECT count(*) FROM gateway.blobs WHERE deleted_ms IS NULL")[0][0]
        .as<std::int64_t>();
  });
}

}  // namespace dcloud::gateway
