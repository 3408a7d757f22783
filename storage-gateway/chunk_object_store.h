#pragma once
// ObjectStore of encrypted, deduplicated chunks (see chunk_layout.h, chunk_cipher.h):
//   DIR/tmp/<random>             chunk files being written (emptied at start)
//   DIR/chunks/<ab>/<name>       sealed chunks, ab = the name's first two characters
// and in PostgreSQL (pg_chunk_index.h) the blobs (an id per stored object or part) and their
// manifests. A writer cuts the bytes into kChunkBytes chunks; for each it commits the manifest
// entry and the chunk row first, then writes the file unless a valid one exists (tmp, fsync,
// rename; the directories are fsynced at finish()), so a file is never needed before its row
// exists and never written for a chunk already stored. Readers go chunk by chunk with one chunk
// buffer; a chunk that fails authentication fails the read. remove() only marks a blob removed:
// reads already open keep their chunks until the collector (chunk_gc.h) runs past its grace.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "storage-gateway/chunk_cipher.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/metadata_cache.h"
#include "storage-gateway/object_store.h"
#include "storage-gateway/pg_chunk_index.h"

namespace dcloud::gateway {

class ChunkObjectStore final : public ObjectStore {
 public:
  // Creates the directories and empties tmp/. Internal if they cannot be created.
  static Result<std::unique_ptr<ChunkObjectStore>> openDir(const std::string& data_dir,
                                                           std::shared_ptr<PgPool> pool,
                                                           const MasterKey& master,
                                                           const Clock& clock, Random& random);

  Result<std::unique_ptr<ObjectWriter>> create(const std::string& bucket) override;
  Result<std::unique_ptr<ObjectReader>> open(const std::string& id) override;
  Status remove(const std::string& id) override;
  Result<std::string> compose(const std::string& bucket,
                              const std::vector<DataSlice>& slices) override;

  std::string chunkPath(const std::string& name) const;
  std::string tmpDir() const { return dir_ + "/tmp"; }
  std::string chunksDir() const { return dir_ + "/chunks"; }
  PgChunkIndex& index() { return index_; }
  const Clock& clock() const { return clock_; }
  Random& random() { return random_; }
  // The cipher of bucket, creating and storing its data key on first use.
  Result<std::shared_ptr<const ChunkCipher>> cipherFor(const std::string& bucket);
  // A blob this process just wrote in one piece (complete, its whole manifest in info), so that
  // reading it soon after needs no query. A complete blob never changes; it can only be removed,
  // and remove() forgets it. Removed by another process, it stays readable here for at most
  // kRecentBlobMillis, far below the collector's grace period, while its files are still there.
  void remember(const std::string& id, const BlobInfo& info);
  // Blobs holding inline chunks are remembered only up to this many bytes of them (with their
  // sealed bytes, so a GET of a tiny object just written needs no query), and at most
  // kRecentBlobs blobs are remembered: the cache stays under 20 MiB.
  static constexpr std::int64_t kRecentBlobMillis = 5000;
  static constexpr std::size_t kRecentInlineBytes = 4096;
  static constexpr std::size_t kRecentBlobs = 4096;

 private:
  ChunkObjectStore(std::string dir, std::shared_ptr<PgPool> pool, const MasterKey& master,
                   const Clock& clock, Random& random)
      : dir_(std::move(dir)),
        index_(std::move(pool)),
        master_(master),
        clock_(clock),
        random_(random),
        recent_(clock, kRecentBlobMillis, kRecentBlobs) {}

  std::string dir_;
  PgChunkIndex index_;
  const MasterKey& master_;
  const Clock& clock_;
  Random& random_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const ChunkCipher>> ciphers_;
  MetadataCache<BlobInfo> recent_;
};

}  // namespace dcloud::gateway
