#include "storage-gateway/chunk_layout.h"

#include <algorithm>

namespace dcloud::gateway {

std::size_t findChunk(const std::vector<ChunkRef>& refs, std::int64_t pos) {
  // The first entry that ends after pos.
  auto it = std::upper_bound(refs.begin(), refs.end(), pos, [](std::int64_t p, const ChunkRef& r) {
    return p < r.offset + r.size;
  });
  if (it == refs.end() || it->offset > pos) return refs.size();
  return static_cast<std::size_t>(it - refs.begin());
}

std::vector<CopyStep> planCopy(const std::vector<ChunkRef>& refs, std::int64_t first,
                               std::int64_t length) {
  std::vector<CopyStep> steps;
  std::int64_t pos = first;
  const std::int64_t end = first + length;
  for (std::size_t i = findChunk(refs, pos); i < refs.size() && pos < end; ++i) {
    const ChunkRef& r = refs[i];
    const std::int64_t skip = pos - r.offset;
    const std::int64_t take = std::min(r.size - skip, end - pos);
    CopyStep step;
    step.chunk = r;
    step.length = take;
    if (skip == 0 && take == r.size) {
      step.reference = true;
    } else {
      step.skip = skip;
    }
    steps.push_back(std::move(step));
    pos += take;
  }
  return steps;
}

std::size_t ChunkCutter::add(const char* data, std::size_t n) {
  // A small object's chunk gets a buffer of its size; a chunk that outgrows 64 KiB gets the
  // whole chunk size at once (no doubling and copying on the way to 4 MiB).
  const std::size_t need = buffer_.size() + std::min(n, chunk_bytes_ - buffer_.size());
  if (buffer_.capacity() < need) buffer_.reserve(need <= 64 * 1024 ? need : chunk_bytes_);
  const std::size_t take = std::min(n, chunk_bytes_ - buffer_.size());
  buffer_.append(data, take);
  return take;
}

}  // namespace dcloud::gateway
