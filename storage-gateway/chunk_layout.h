#pragma once
// Pure parts of chunked storage: cutting a byte stream into fixed-size chunks, finding the chunks
// that cover a byte range of a manifest, and planning a copy of byte ranges of existing data as
// whole-chunk references plus the partial edges that must be re-written.
//
// Fixed-size chunks (not content-defined): a chunk's position follows from offsets, chunking costs
// nothing beyond hashing, and the dedup that matters here (re-uploads, copies, multipart
// completion) is of aligned data; content-defined chunking would only win for shifted inserts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dcloud::gateway {

inline constexpr std::size_t kChunkBytes = 4 * 1024 * 1024;
// Chunks of at most this many plaintext bytes are kept sealed in their PostgreSQL row instead of
// a file (sql/0012_gateway_inline_chunks.sql). Decided by size alone, so one name (one content)
// always has one form; only chunks written as files by earlier versions break the rule.
inline constexpr std::size_t kInlineChunkBytes = 64 * 1024;

// One entry of a manifest: the chunk `name` holds the blob's bytes [offset, offset + size).
struct ChunkRef {
  std::int64_t offset = 0;
  std::string name;
  std::int64_t size = 0;
  // The sealed chunk (chunk_cipher.h's file format) when it lives in its row and was read or
  // written with this reference; empty otherwise (then it is a file, or not loaded).
  std::string sealed;
};

// Index of the entry of refs (sorted by offset, contiguous) that holds byte pos; refs.size() when
// none does.
std::size_t findChunk(const std::vector<ChunkRef>& refs, std::int64_t pos);

// How the range [first, first + length) of a blob is rebuilt from its manifest refs (which must
// cover the range): a sequence of steps, each either a whole chunk to reference or a slice of a
// chunk to copy as bytes.
struct CopyStep {
  bool reference = false;   // true: reuse the chunk as it is
  ChunkRef chunk;           // the source chunk
  std::int64_t skip = 0;    // copy: bytes of the chunk to skip
  std::int64_t length = 0;  // copy: bytes to take; reference: chunk.size
};
std::vector<CopyStep> planCopy(const std::vector<ChunkRef>& refs, std::int64_t first,
                               std::int64_t length);

// Accumulates written bytes into chunk-sized pieces: add() returns how many bytes of the input it
// took (stopping when the chunk is full); full() says the chunk is ready.
class ChunkCutter {
 public:
  explicit ChunkCutter(std::size_t chunk_bytes = kChunkBytes) : chunk_bytes_(chunk_bytes) {}
  std::size_t add(const char* data, std::size_t n);
  bool full() const { return buffer_.size() == chunk_bytes_; }
  bool empty() const { return buffer_.empty(); }
  const std::string& data() const { return buffer_; }
  void clear() { buffer_.clear(); }

 private:
  std::size_t chunk_bytes_;
  std::string buffer_;
};

}  // namespace dcloud::gateway
