#include "storage-gateway/chunk_gc.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

constexpr int kBatch = 500;

bool isChunkName(const char* name) {
  std::size_t n = 0;
  for (; name[n] != '\0'; ++n) {
    const char c = name[n];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return n == 64;
}

}  // namespace

Result<GcCounts> ChunkGc::runOnce() {
  GcCounts counts;
  const std::int64_t cutoff = store_.clock().nowMillis() - options_.grace_ms;
  Result<int> blobs = store_.index().dropBlobs(cutoff);
  if (!blobs.ok()) return blobs.error();
  counts.blobs = *blobs;
  Result<int> adopted = sweepFiles();
  if (!adopted.ok()) return adopted.error();
  counts.adopted = *adopted;
  auto remove_files = [this](const std::vector<std::string>& names) -> Status {
    for (const std::string& name : names) {
      const std::string path = store_.chunkPath(name);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return internalError("cannot remove " + path + ": " + std::strerror(errno));
      }
    }
    return okStatus();
  };
  for (;;) {
    Result<std::vector<std::string>> names = store_.index().unreferencedChunks(cutoff, kBatch);
    if (!names.ok()) return names.error();
    if (names->empty()) break;
    Result<int> collected = store_.index().collectChunks(*names, cutoff, remove_files);
    if (!collected.ok()) return collected.error();
    counts.chunks += *collected;
    if (*collected == 0) break;  // all locked by writers or referenced again: next run
  }
  return counts;
}

Result<int> ChunkGc::sweepFiles() {
  // A file without a row is never needed (writers commit the row before the file), so it is
  // adopted whatever its age and then collected like any unreferenced chunk, under the lock.
  int adopted = 0;
  std::vector<std::string> names;
  auto flush = [&]() -> Status {
    if (names.empty()) return okStatus();
    Result<int> n = store_.index().adoptFiles(names);
    if (!n.ok()) return n.error();
    adopted += *n;
    names.clear();
    return okStatus();
  };
  DIR* top = ::opendir(store_.chunksDir().c_str());
  if (top == nullptr) return internalError("cannot list " + store_.chunksDir());
  Status status = okStatus();
  while (dirent* shard = ::readdir(top)) {
    if (shard->d_name[0] == '.') continue;
    const std::string dir = store_.chunksDir() + "/" + shard->d_name;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      if (!isChunkName(e->d_name)) continue;
      names.emplace_back(e->d_name);
      if (names.size() >= static_cast<std::size_t>(kBatch) && status.ok()) status = flush();
    }
    ::closedir(d);
  }
  ::closedir(top);
  if (status.ok()) status = flush();
  if (!status.ok()) return status.error();
  return adopted;
}

void ChunkGc::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (wake_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms),
                         [this] { return stopping_; })) {
        return;
      }
      lock.unlock();
      Result<GcCounts> counts = runOnce();
      if (!counts.ok()) {
        log_.warn("chunk collection failed: " + counts.error().message);
      } else if (counts->blobs + counts->chunks + counts->adopted > 0) {
        log_.info("chunk collection: " + std::to_string(counts->blobs) + " blobs, " +
                  std::to_string(counts->chunks) + " chunks removed, " +
                  std::to_string(counts->adopted) + " stray files adopted");
      }
      lock.lock();
    }
  });
}

void ChunkGc::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace dcloud::gateway
