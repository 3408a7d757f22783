#pragma once
// A small in-process cache for rows that are read on every request but change rarely (access
// keys, buckets, bucket documents). Entries expire after a bound (changes made by other processes,
// e.g. `keys revoke`, are seen within it); the store that owns the cache invalidates an entry
// after committing a change to it, so this process sees its own changes at once.
//
// Race: a reader may fetch a row, a writer then commit a change and invalidate, and the reader
// only afterwards store what it fetched. Every invalidation bumps a generation; a reader passes
// the generation it saw before fetching and its value is dropped if it changed meanwhile.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"

namespace dcloud::gateway {

template <typename V>
class MetadataCache {
 public:
  // max_entries bounds memory: the cache is emptied when it would grow past it.
  MetadataCache(const Clock& clock, std::int64_t ttl_ms, std::size_t max_entries = 10000)
      : clock_(clock), ttl_ms_(ttl_ms), max_entries_(max_entries) {}

  // The generation to pass to put() for a value fetched after this call.
  std::uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return generation_;
  }

  std::optional<V> get(const std::string& key) const {
    if (ttl_ms_ <= 0) return std::nullopt;
    const std::int64_t now = clock_.nowMillis();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    const std::int64_t age = now - it->second.stored_ms;
    // A clock that went backwards also expires the entry.
    if (age < 0 || age >= ttl_ms_) return std::nullopt;
    return it->second.value;
  }

  void put(const std::string& key, const V& value, std::uint64_t seen_generation) {
    if (ttl_ms_ <= 0) return;
    const std::int64_t now = clock_.nowMillis();
    std::lock_guard<std::mutex> lock(mutex_);
    if (seen_generation != generation_) return;
    if (entries_.size() >= max_entries_ && entries_.count(key) == 0) entries_.clear();
    entries_[key] = Entry{value, now};
  }

  void invalidate(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    entries_.erase(key);
  }

 private:
  struct Entry {
    V value;
    std::int64_t stored_ms = 0;
  };
  const Clock& clock_;
  const std::int64_t ttl_ms_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::map<std::string, Entry> entries_;
};

}  // namespace dcloud::gateway
