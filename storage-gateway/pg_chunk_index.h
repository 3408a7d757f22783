#pragma once
// The PostgreSQL side of chunked storage (schema `gateway`, sql/0008_gateway_chunks.sql): bucket
// data keys, blobs and their manifests, chunk rows, and the garbage collector's queries. Only the
// chunk store and the collector use it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/pg.h"
#include "storage-gateway/chunk_layout.h"

namespace dcloud::gateway {

struct BlobInfo {
  std::string bucket;
  std::int64_t size = 0;
  bool complete = false;
  bool deleted = false;
  std::vector<ChunkRef> first_refs;  // with blob(id, n): its first n manifest entries
};

struct GcCounts {
  int blobs = 0;    // blob rows deleted
  int chunks = 0;   // chunk rows and files deleted
  int adopted = 0;  // files found on disk without a row
};

class PgChunkIndex {
 public:
  explicit PgChunkIndex(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}

  // The bucket's sealed data key, storing sealed_if_new first when the bucket has none (the
  // first writer wins a race; everyone gets the stored one).
  Result<std::string> bucketKey(const std::string& bucket, const std::string& sealed_if_new);

  // Refs that carry sealed bytes store them in their chunk's row (an inline chunk; a row that
  // already has them keeps its own); blob() and refsFrom() return them with the reference.
  // In one transaction: creates the blob if new and touches it (now_ms), upserts the chunk rows
  // of refs (touched now_ms, locking them in name order so a collection of them waits or is
  // skipped) and appends refs to the blob's manifest; with final_size, marks the blob complete.
  // The commit is asynchronous (synchronous_commit off): the object's own commit, later in the
  // WAL, makes it durable; a crash before leaves files the disk sweep adopts.
  Status appendRefs(const std::string& blob_id, const std::string& bucket,
                    const std::vector<ChunkRef>& refs,
                    const std::optional<std::int64_t>& final_size, std::int64_t now_ms);
  // A new blob whose whole manifest is refs (adding up to size), complete at once: the same rows
  // as appendRefs with final_size for a blob not yet created, in a single statement committed
  // asynchronously (one round trip). Fails if blob_id exists.
  Status createComplete(const std::string& blob_id, const std::string& bucket,
                        const std::vector<ChunkRef>& refs, std::int64_t size, std::int64_t now_ms);
  // NotFound if the blob does not exist. With first_refs > 0, also its first manifest entries
  // (in the same round trip: a small object's GET costs one query here).
  Result<BlobInfo> blob(const std::string& blob_id, int first_refs = 0);
  // Up to limit manifest entries of the blob that end after pos, by offset.
  Result<std::vector<ChunkRef>> refsFrom(const std::string& blob_id, std::int64_t pos, int limit);
  // Those of names whose row holds the sealed chunk (no file).
  Result<std::set<std::string>> inlineChunks(const std::vector<std::string>& names);
  // Marks the blob removed (reads already open keep working until the collector drops it). Ok if
  // absent.
  Status markDeleted(const std::string& blob_id, std::int64_t now_ms);

  // Collector. Deletes blobs removed before cutoff_ms, incomplete blobs untouched since cutoff_ms
  // (abandoned writes) and complete blobs untouched since then that no object, version or part
  // names (writes whose metadata never committed).
  Result<int> dropBlobs(std::int64_t cutoff_ms);
  // Up to limit chunks untouched since cutoff_ms that no manifest references.
  Result<std::vector<std::string>> unreferencedChunks(std::int64_t cutoff_ms, int limit);
  // Locks those of names still untouched since cutoff_ms (skipping locked ones), keeps the ones
  // no manifest references, calls remove_files on them while holding the locks, then deletes
  // their rows. Returns how many were deleted.
  Result<int> collectChunks(
      const std::vector<std::string>& names, std::int64_t cutoff_ms,
      const std::function<Status(const std::vector<std::string>&)>& remove_files);
  // Inserts a row (touched 0, so collectable) for each name that has none; returns how many.
  Result<int> adoptFiles(const std::vector<std::string>& names);
  // Blobs not removed (for tests and metrics).
  Result<std::int64_t> liveBlobCount();

 private:
  std::shared_ptr<PgPool> pool_;
};

}  // namespace dcloud::gateway
