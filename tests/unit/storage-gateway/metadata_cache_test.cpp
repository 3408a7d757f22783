#include "storage-gateway/metadata_cache.h"

#include <gtest/gtest.h>

namespace dcloud::gateway {
namespace {

TEST(MetadataCacheTest, ExpiresAfterTheBound) {
  ManualClock clock(5000);
  MetadataCache<int> cache(clock, 100);
  cache.put("a", 1, cache.generation());
  EXPECT_EQ(cache.get("a"), 1);
  clock.advanceMillis(99);
  EXPECT_EQ(cache.get("a"), 1);
  clock.advanceMillis(1);
  EXPECT_EQ(cache.get("a"), std::nullopt);
  cache.put("a", 2, cache.generation());
  clock.setMillis(4000);  // a clock that went back expires entries too
  EXPECT_EQ(cache.get("a"), std::nullopt);
}

TEST(MetadataCacheTest, InvalidationWinsOverAReaderThatFetchedBeforeIt) {
  ManualClock clock(0);
  MetadataCache<int> cache(clock, 1000);
  cache.put("a", 1, cache.generation());
  const std::uint64_t seen = cache.generation();  // a reader starts fetching
  cache.invalidate("a");                          // a writer commits
  EXPECT_EQ(cache.get("a"), std::nullopt);
  cache.put("a", 1, seen);  // the reader's now stale value is not stored
  EXPECT_EQ(cache.get("a"), std::nullopt);
  cache.put("a", 3, cache.generation());
  EXPECT_EQ(cache.get("a"), 3);
}

TEST(MetadataCacheTest, OffWhenTheBoundIsZeroAndBoundedInSize) {
  ManualClock clock(0);
  MetadataCache<int> off(clock, 0);
  off.put("a", 1, off.generation());
  EXPECT_EQ(off.get("a"), std::nullopt);
  MetadataCache<int> small(clock, 1000, 2);
  small.put("a", 1, small.generation());
  small.put("b", 2, small.generation());
  small.put("c", 3, small.generation());
  EXPECT_EQ(small.get("c"), 3);
  EXPECT_EQ(small.get("a"), std::nullopt);
}

}  // namespace
}  // namespace dcloud::gateway
