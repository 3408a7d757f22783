#pragma once
// The garbage collector of chunked storage. runOnce() (tests call it; start() runs it every
// interval on a background thread) does, in order:
//  1. drops blobs removed more than `grace` ago (reads that opened them had that long), blobs
//     whose write was abandoned (incomplete, untouched for `grace`), and complete blobs untouched
//     for `grace` that no object, version or part names (their metadata commit never happened);
//  2. adopts chunk files that have no row (a crash lost the asynchronous row commit) by giving
//     them a row touched at 0;
//  3. deletes chunks untouched for `grace` that no manifest references: for each batch it locks
//     the rows (FOR UPDATE SKIP LOCKED), checks references again in a new statement, removes the
//     files, then deletes the rows in the same transaction.
//
// Why this is safe against a writer that is about to reuse a chunk: a writer upserts the chunk's
// row and inserts its manifest entry in one transaction before relying on the file, and checks
// for the file only after that commit. The upsert and the entry's foreign key both conflict with
// the collector's row lock, so either the writer commits first (the collector then sees the
// reference, or skips the row while it is locked, and the chunk is kept) or the collector commits
// first (the row and the file are gone; the writer's upsert inserts a new row and, finding no
// file, writes it again). The touched time is only a second line of defence (and what lets blobs
// live between their writer's finish() and their metadata commit): no reference is ever counted
// on a timer alone except that last step, which takes milliseconds against a default hour.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "storage-gateway/chunk_object_store.h"

namespace dcloud::gateway {

struct ChunkGcOptions {
  std::int64_t grace_ms = 60LL * 60 * 1000;
  std::int64_t interval_ms = 10LL * 60 * 1000;
};

class ChunkGc {
 public:
  ChunkGc(ChunkObjectStore& store, const Logger& log, ChunkGcOptions options)
      : store_(store), log_(log), options_(options) {}
  ~ChunkGc() { stop(); }

  Result<GcCounts> runOnce();
  void start();
  void stop();

 private:
  Result<int> sweepFiles();

  ChunkObjectStore& store_;
  const Logger& log_;
  ChunkGcOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dcloud::gateway
