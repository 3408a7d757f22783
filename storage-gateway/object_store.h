#pragma once
// Where object bytes live. Writing is two-phase: an ObjectWriter collects bytes; finish() makes
// them durable under id(); the object becomes visible only when the caller commits metadata that
// names the id. An ObjectWriter destroyed before finish() leaves nothing behind (that is still
// readable); after finish() the caller removes the id itself if its metadata commit fails.
// Implementation: ChunkObjectStore (encrypted, deduplicated chunks; chunk_object_store.h).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status write(const char* data, std::size_t n) = 0;
  // Flushes, syncs and moves the bytes to their final place. Internal on I/O failure.
  virtual Status finish() = 0;
  virtual const std::string& id() const = 0;
};

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual std::int64_t size() const = 0;
  // Reads up to n bytes from the current position; 0 at end. Internal on I/O failure or when the
  // stored bytes fail their integrity check (never returns wrong bytes).
  virtual Result<std::size_t> read(char* out, std::size_t n) = 0;
  // Internal as read(): an implementation may check the data at offset right away.
  virtual Status seek(std::int64_t offset) = 0;
};

// The bytes [first, first + length) of the data stored under data_id.
struct DataSlice {
  std::string data_id;
  std::int64_t first = 0;
  std::int64_t length = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // A writer for data of an object of bucket.
  virtual Result<std::unique_ptr<ObjectWriter>> create(const std::string& bucket) = 0;
  // NotFound if no data has that id.
  virtual Result<std::unique_ptr<ObjectReader>> open(const std::string& id) = 0;
  // Ok if the id is already gone.
  virtual Status remove(const std::string& id) = 0;
  // New finished data for bucket made of slices, in order; shares stored bytes with the sources
  // where it can instead of copying them. NotFound if a source is gone, InvalidArgument if a slice
  // lies outside its source. The caller removes the id if its metadata commit fails.
  virtual Result<std::string> compose(const std::string& bucket,
                                      const std::vector<DataSlice>& slices) = 0;
};

}  // namespace dcloud::gateway
