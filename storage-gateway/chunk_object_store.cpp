#include "storage-gateway/chunk_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "storage-gateway/chunk_layout.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

constexpr int kPageRefs = 256;              // manifest entries a reader fetches at once (1 GiB)
constexpr std::size_t kPendingRefs = 1000;  // references a writer batches per transaction
constexpr std::size_t kCopyBufferBytes = 256 * 1024;

Error ioError(const std::string& what, const std::string& path) {
  return internalError(what + " " + path + ": " + std::strerror(errno));
}

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return okStatus();
  return ioError("cannot create directory", path);
}

Status syncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("cannot open directory", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ioError("cannot sync directory", path);
  return okStatus();
}

Status writeAll(int fd, const char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ioError("cannot write", path);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return okStatus();
}

Status readAll(int fd, char* out, std::size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::read(fd, out, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ioError("cannot read", path);
    if (r == 0) return internalError("chunk file " + path + " is truncated");
    out += r;
    n -= static_cast<std::size_t>(r);
  }
  return okStatus();
}

bool isSafeId(const std::string& id) {
  if (id.size() < 8 || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::int64_t sealedSize(std::int64_t plain) {
  return static_cast<std::int64_t>(kChunkHeaderBytes + kChunkTagBytes) + plain;
}

// Reads blob bytes chunk by chunk: one manifest page and one chunk in memory.
class ChunkReader final : public ObjectReader {
 public:
  ChunkReader(ChunkObjectStore& store, std::string id, std::shared_ptr<const ChunkCipher> cipher,
              std::int64_t size, std::vector<ChunkRef> first_page)
      : store_(store),
        id_(std::move(id)),
        cipher_(std::move(cipher)),
        size_(size),
        page_(std::move(first_page)) {}

  std::int64_t size() const override { return size_; }

  Result<std::size_t> read(char* out, std::size_t n) override {
    if (pos_ >= size_ || n == 0) return std::size_t{0};
    if (!loaded_ || pos_ < current_.offset || pos_ >= current_.offset + current_.size) {
      DCLOUD_TRY(load(pos_));
    }
    const std::int64_t skip = pos_ - current_.offset;
    const std::size_t k = static_cast<std::size_t>(std::min<std::int64_t>(current_.size - skip, n));
    std::memcpy(out, plain_.data() + skip, k);
    pos_ += static_cast<std::int64_t>(k);
    return k;
  }

  Status seek(std::int64_t offset) override {
    if (offset < 0 || offset > size_) return invalidArgument("seek outside the data");
    pos_ = offset;
    // Checked now, so that a bad first chunk fails the request before any header is sent.
    if (pos_ < size_) return load(pos_);
    return okStatus();
  }

 private:
  Status load(std::int64_t pos) {
    std::size_t i = findChunk(page_, pos);
    if (i == page_.size()) {
      Result<std::vector<ChunkRef>> page = store_.index().refsFrom(id_, pos, kPageRefs);
      if (!page.ok()) return page.error();
      page_ = std::move(*page);
      i = findChunk(page_, pos);
      if (i == page_.size()) return internalError("manifest of " + id_ + " has a hole");
    }
    const ChunkRef& ref = page_[i];
    char header[kChunkHeaderBytes];
    loaded_ = false;
    if (!ref.sealed.empty()) {
      if (static_cast<std::int64_t>(ref.sealed.size()) != sealedSize(ref.size)) {
        return internalError("inline chunk " + ref.name + " has the wrong size");
      }
      std::memcpy(header, ref.sealed.data(), sizeof header);
      plain_.assign(ref.sealed, kChunkHeaderBytes);
    } else {
      DCLOUD_TRY(readFile(ref, header));
    }
    DCLOUD_TRY(cipher_->open(ref.name, header, plain_));
    if (static_cast<std::int64_t>(plain_.size()) != ref.size) {
      return internalError("chunk " + ref.name + " has the wrong size");
    }
    current_ = ref;
    loaded_ = true;
    if (i + 1 < page_.size()) prefetch(page_[i + 1]);
    return okStatus();
  }

  // The chunk's file: header into header, ciphertext and tag into plain_.
  Status readFile(const ChunkRef& ref, char* header) {
    const std::string path = store_.chunkPath(ref.name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ioError("cannot open chunk", path);
    struct stat st {};
    Status read_status = okStatus();
    if (::fstat(fd, &st) != 0) {
      read_status = ioError("cannot stat", path);
    } else if (st.st_size != sealedSize(ref.size)) {
      read_status = internalError("chunk file " + path + " has the wrong size");
    } else {
      plain_.resize(static_cast<std::size_t>(ref.size) + kChunkTagBytes);
      read_status = readAll(fd, header, kChunkHeaderBytes, path);
      if (read_status.ok()) read_status = readAll(fd, plain_.data(), plain_.size(), path);
    }
    ::close(fd);
    return read_status;
  }

  // Asks the kernel to start reading the next chunk's file while this one is decrypted and
  // sent, so a cold read does not wait for the disk chunk by chunk. Only a hint: errors are
  // ignored (load() reports them when it gets there).
  void prefetch(const ChunkRef& next) const {
    if (!next.sealed.empty()) return;
    const std::string path = store_.chunkPath(next.name);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    ::close(fd);
  }

  ChunkObjectStore& store_;
  std::string id_;
  std::shared_ptr<const ChunkCipher> cipher_;
  std::int64_t size_;
  std::int64_t pos_ = 0;
  std::vector<ChunkRef> page_;
  ChunkRef current_;
  bool loaded_ = false;
  std::string plain_;
};

class ChunkWriter final : public ObjectWriter {
 public:
  ChunkWriter(ChunkObjectStore& store, std::string bucket,
              std::shared_ptr<const ChunkCipher> cipher, std::string id)
      : store_(store), bucket_(std::move(bucket)), cipher_(std::move(cipher)), id_(std::move(id)) {}
  ~ChunkWriter() override {
    // A blob never finished is unreadable; marking it removed lets the collector take it now
    // rather than after its grace.
    if (!finished_ && started_) (void)store_.index().markDeleted(id_, store_.clock().nowMillis());
  }

  Status write(const char* data, std::size_t n) override {
    while (n > 0) {
      const std::size_t took = cutter_.add(data, n);
      data += took;
      n -= took;
      if (cutter_.full()) DCLOUD_TRY(storeBuffered(false));
    }
    return okStatus();
  }

  // Appends an existing chunk of this bucket by reference.
  Status appendRef(const ChunkRef& source) {
    if (!cutter_.empty()) DCLOUD_TRY(storeBuffered(false));
    pending_.push_back({offset_, source.name, source.size, {}});
    referenced_.push_back({source.offset, source.name, source.size, {}});
    // Its bytes may be in its row, which this manifest does not carry: no caching (see finish).
    uncacheable_ = uncacheable_ || source.size <= static_cast<std::int64_t>(kInlineChunkBytes);
    offset_ += source.size;
    if (pending_.size() >= kPendingRefs) DCLOUD_TRY(flushPending(std::nullopt));
    return okStatus();
  }

  Status finish() override {
    if (!cutter_.empty()) {
      DCLOUD_TRY(storeBuffered(true));
    } else {
      DCLOUD_TRY(flushPending(offset_));
    }
    // A referenced chunk's row guarantees its file (or its inline bytes) unless a collector
    // died between removing the file and the row: then the new data must not claim it.
    std::vector<std::string> no_file;
    for (const ChunkRef& r : referenced_) {
      struct stat st {};
      const std::string path = store_.chunkPath(r.name);
      if (::stat(path.c_str(), &st) == 0 && st.st_size == sealedSize(r.size)) continue;
      if (r.size > static_cast<std::int64_t>(kInlineChunkBytes)) {
        return internalError("referenced chunk file " + path + " is missing");
      }
      no_file.push_back(r.name);
    }
    if (!no_file.empty()) {
      Result<std::set<std::string>> inline_names = store_.index().inlineChunks(no_file);
      if (!inline_names.ok()) return inline_names.error();
      for (const std::string& name : no_file) {
        if (inline_names->count(name) == 0) {
          return internalError("referenced chunk " + name + " is missing");
        }
      }
    }
    for (const std::string& dir : dirty_dirs_) DCLOUD_TRY(syncDir(dir));
    finished_ = true;
    if (whole_) store_.remember(id_, *whole_);
    return okStatus();
  }

  const std::string& id() const override { return id_; }

 private:
  // Stores the buffered bytes as one chunk: manifest entry and row first, then the file (none
  // for an inline chunk: its row holds it).
  Status storeBuffered(bool final) {
    const std::string& data = cutter_.data();
    const std::string name = cipher_->name(data.data(), data.size());
    const auto size = static_cast<std::int64_t>(data.size());
    ChunkRef ref{offset_, name, size, {}};
    const bool in_row = data.size() <= kInlineChunkBytes;
    // An inline chunk is sealed before its row is written, since the row holds it.
    if (in_row) cipher_->seal(name, data.data(), data.size(), store_.random(), ref.sealed);
    // The cache of recent blobs would hold inline bytes: only a tiny object's are worth it.
    uncacheable_ = uncacheable_ || (in_row && data.size() > ChunkObjectStore::kRecentInlineBytes);
    pending_.push_back(std::move(ref));
    offset_ += size;
    DCLOUD_TRY(flushPending(final ? std::optional<std::int64_t>(offset_) : std::nullopt));
    if (!in_row) DCLOUD_TRY(ensureFile(name, data));
    cutter_.clear();
    return okStatus();
  }

  Status flushPending(const std::optional<std::int64_t>& final_size) {
    const bool first = !started_;
    started_ = true;
    if (first && final_size && !pending_.empty()) {
      // The whole blob at once (a small object): one statement.
      DCLOUD_TRY(store_.index().createComplete(id_, bucket_, pending_, *final_size,
                                               store_.clock().nowMillis()));
      if (!uncacheable_) whole_ = BlobInfo{bucket_, *final_size, true, false, pending_};
    } else {
      DCLOUD_TRY(store_.index().appendRefs(id_, bucket_, pending_, final_size,
                                           store_.clock().nowMillis()));
    }
    pending_.clear();
    return okStatus();
  }

  // Writes the chunk file unless a whole one is there (deduplication).
  Status ensureFile(const std::string& name, const std::string& data) {
    const std::string path = store_.chunkPath(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 &&
        st.st_size == sealedSize(static_cast<std::int64_t>(data.size()))) {
      return okStatus();
    }
    cipher_->seal(name, data.data(), data.size(), store_.random(), sealed_);
    const std::string tmp = store_.tmpDir() + "/" + store_.random().hex(16);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ioError("cannot create", tmp);
    Status written = writeAll(fd, sealed_.data(), sealed_.size(), tmp);
    if (written.ok() && ::fsync(fd) != 0) written = ioError("cannot sync", tmp);
    ::close(fd);
    const std::string dir = path.substr(0, path.rfind('/'));
    if (written.ok()) written = makeDir(dir);
    if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      written = ioError("cannot rename into", path);
    }
    if (!written.ok()) {
      ::unlink(tmp.c_str());
      return written;
    }
    dirty_dirs_.insert(dir);
    return okStatus();
  }

  ChunkObjectStore& store_;
  std::string bucket_;
  std::shared_ptr<const ChunkCipher> cipher_;
  std::string id_;
  ChunkCutter cutter_;
  std::string sealed_;
  std::vector<ChunkRef> pending_;
  std::vector<ChunkRef> referenced_;
  std::optional<BlobInfo> whole_;  // the blob, when written in one piece (for ChunkObjectStore)
  std::set<std::string> dirty_dirs_;
  std::int64_t offset_ = 0;
  bool started_ = false;
  bool finished_ = false;
  bool uncacheable_ = false;  // not for the recent-blob cache (see storeBuffered, appendRef)
};

}  // namespace

Result<std::unique_ptr<ChunkObjectStore>> ChunkObjectStore::openDir(const std::string& data_dir,
                                                                    std::shared_ptr<PgPool> pool,
                                                                    const MasterKey& master,
                                                                    const Clock& clock,
                                                                    Random& random) {
  std::unique_ptr<ChunkObjectStore> store(
      new ChunkObjectStore(data_dir, std::move(pool), master, clock, random));
  DCLOUD_TRY(makeDir(data_dir));
  DCLOUD_TRY(makeDir(store->tmpDir()));
  DCLOUD_TRY(makeDir(store->chunksDir()));
  // Leftovers in tmp/ are chunk files a crash interrupted: never named by any manifest.
  if (DIR* d = ::opendir(store->tmpDir().c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      ::unlink((store->tmpDir() + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  return store;
}

std::string ChunkObjectStore::chunkPath(const std::string& name) const {
  return chunksDir() + "/" + name.substr(0, 2) + "/" + name;
}

Result<std::shared_ptr<const ChunkCipher>> ChunkObjectStore::cipherFor(const std::string& bucket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = ciphers_.find(bucket);
    if (it != ciphers_.end()) return it->second;
  }
  const std::string fresh = ChunkCipher::newDataKey(random_);
  Result<std::string> sealed = index_.bucketKey(bucket, master_.seal(fresh, random_));
  if (!sealed.ok()) return sealed.error();
  Result<std::string> key = master_.open(*sealed);
  if (!key.ok()) return internalError("bucket data key does not open: " + key.error().message);
  Result<ChunkCipher> cipher = ChunkCipher::fromDataKey(*key);
  if (!cipher.ok()) return cipher.error();
  auto shared = std::make_shared<const ChunkCipher>(std::move(*cipher));
  std::lock_guard<std::mutex> lock(mutex_);
  ciphers_.emplace(bucket, shared);
  return std::shared_ptr<const ChunkCipher>(shared);
}

Result<std::unique_ptr<ObjectWriter>> ChunkObjectStore::create(const std::string& bucket) {
  Result<std::shared_ptr<const ChunkCipher>> cipher = cipherFor(bucket);
  if (!cipher.ok()) return cipher.error();
  return std::unique_ptr<ObjectWriter>(
      new ChunkWriter(*this, bucket, std::move(*cipher), random_.hex(16)));
}

void ChunkObjectStore::remember(const std::string& id, const BlobInfo& info) {
  recent_.put(id, info, recent_.generation());
}

Result<std::unique_ptr<ObjectReader>> ChunkObjectStore::open(const std::string& id) {
  if (!isSafeId(id)) return notFound("bad data id");
  Result<BlobInfo> info = notFound("no data for id " + id);
  if (std::optional<BlobInfo> cached = recent_.get(id)) {
    info = std::move(*cached);
  } else {
    info = index_.blob(id, kPageRefs);
  }
  if (!info.ok()) return info.error();
  if (info->deleted || !info->complete) return notFound("no data for id " + id);
  Result<std::shared_ptr<const ChunkCipher>> cipher = cipherFor(info->bucket);
  if (!cipher.ok()) return cipher.error();
  return std::unique_ptr<ObjectReader>(
      new ChunkReader(*this, id, std::move(*cipher), info->size, std::move(info->first_refs)));
}

Status ChunkObjectStore::remove(const std::string& id) {
  if (!isSafeId(id)) return invalidArgument("bad data id");
  Status marked = index_.markDeleted(id, clock_.nowMillis());
  recent_.invalidate(id);
  return marked;
}

Result<std::string> ChunkObjectStore::compose(const std::string& bucket,
                                              const std::vector<DataSlice>& slices) {
  Result<std::shared_ptr<const ChunkCipher>> cipher = cipherFor(bucket);
  if (!cipher.ok()) return cipher.error();
  ChunkWriter writer(*this, bucket, std::move(*cipher), random_.hex(16));
  std::vector<char> buf(kCopyBufferBytes);
  for (const DataSlice& slice : slices) {
    if (!isSafeId(slice.data_id)) return notFound("bad data id");
    Result<BlobInfo> info = index_.blob(slice.data_id);
    if (!info.ok()) return info.error();
    if (info->deleted || !info->complete) return notFound("no data for id " + slice.data_id);
    if (slice.first < 0 || slice.length < 0 || slice.first + slice.length > info->size) {
      return invalidArgument("slice outside its data");
    }
    // Opened only when bytes must be copied: a completion of many parts only references chunks.
    std::unique_ptr<ObjectReader> reader;
    // Copies [pos, pos + n) of the source as bytes.
    auto copyBytes = [&](std::int64_t pos, std::int64_t n) -> Status {
      if (!reader) {
        Result<std::unique_ptr<ObjectReader>> opened = open(slice.data_id);
        if (!opened.ok()) return opened.error();
        reader = std::move(*opened);
      }
      DCLOUD_TRY(reader->seek(pos));
      while (n > 0) {
        Result<std::size_t> got = reader->read(
            buf.data(), static_cast<std::size_t>(std::min<std::int64_t>(n, buf.size())));
        if (!got.ok()) return got.error();
        if (*got == 0) return internalError("source data ended early");
        DCLOUD_TRY(writer.write(buf.data(), *got));
        n -= static_cast<std::int64_t>(*got);
      }
      return okStatus();
    };
    const std::int64_t end = slice.first + slice.length;
    if (info->bucket != bucket) {
      // Chunk names and keys are per bucket: another bucket's chunks cannot be shared.
      if (slice.length > 0) DCLOUD_TRY(copyBytes(slice.first, slice.length));
      continue;
    }
    std::int64_t pos = slice.first;
    while (pos < end) {
      Result<std::vector<ChunkRef>> page = index_.refsFrom(slice.data_id, pos, kPageRefs);
      if (!page.ok()) return page.error();
      std::vector<CopyStep> steps = planCopy(*page, pos, end - pos);
      if (steps.empty()) return internalError("manifest of " + slice.data_id + " has a hole");
      for (const CopyStep& step : steps) {
        if (step.reference) {
          DCLOUD_TRY(writer.appendRef(step.chunk));
        } else {
          DCLOUD_TRY(copyBytes(step.chunk.offset + step.skip, step.length));
        }
        pos += step.length;
      }
    }
  }
  DCLOUD_TRY(writer.finish());
  return writer.id();
}

}  // namespace dcloud::gateway
