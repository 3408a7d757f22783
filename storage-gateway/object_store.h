#pragma once
// Where object bytes live. Writing is two-phase: an ObjectWriter collects bytes; finish() makes
// them durable under id(); the object becomes visible only when the caller commits metadata that
// names the id. An ObjectWriter destroyed before finish() leaves nothing behind; after finish()
// the caller removes the id itself if its metadata commit fails.
// Implementation: LocalObjectStore (files under a data directory).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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
  // Reads up to n bytes from the current position; 0 at end. Internal on I/O failure.
  virtual Result<std::size_t> read(char* out, std::size_t n) = 0;
  virtual Status seek(std::int64_t offset) = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual Result<std::unique_ptr<ObjectWriter>> create() = 0;
  // NotFound if no data has that id.
  virtual Result<std::unique_ptr<ObjectReader>> open(const std::string& id) = 0;
  // Ok if the id is already gone.
  virtual Status remove(const std::string& id) = 0;
};

}  // namespace dcloud::gateway
