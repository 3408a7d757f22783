#include "storage-gateway/chunk_layout.h"

#include <gtest/gtest.h>

namespace dcloud::gateway {
namespace {

// A manifest of chunks with the given sizes, named c0, c1, ...
std::vector<ChunkRef> manifest(const std::vector<std::int64_t>& sizes) {
  std::vector<ChunkRef> refs;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    refs.push_back({offset, "c" + std::to_string(i), sizes[i], {}});
    offset += sizes[i];
  }
  return refs;
}

TEST(ChunkCutterTest, CutsAtTheChunkSizeWhateverTheWriteSizes) {
  ChunkCutter cutter(10);
  const std::string data = "abcdefghijklmnopqrstuvwxy";  // 25 bytes
  std::vector<std::string> chunks;
  for (std::size_t pos = 0; pos < data.size();) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - pos);
    std::size_t done = 0;
    while (done < n) {
      done += cutter.add(data.data() + pos + done, n - done);
      if (cutter.full()) {
        chunks.push_back(cutter.data());
        cutter.clear();
      }
    }
    pos += n;
  }
  ASSERT_FALSE(cutter.empty());
  chunks.push_back(cutter.data());
  EXPECT_EQ(chunks, (std::vector<std::string>{"abcdefghij", "klmnopqrst", "uvwxy"}));
}

TEST(ChunkCutterTest, TakesNoMoreThanFitsInTheChunk) {
  ChunkCutter cutter(4);
  EXPECT_EQ(cutter.add("abcdef", 6), 4u);
  EXPECT_TRUE(cutter.full());
  EXPECT_EQ(cutter.add("x", 1), 0u);
}

TEST(FindChunkTest, FindsTheChunkHoldingEachByteAcrossBoundaries) {
  const std::vector<ChunkRef> refs = manifest({4, 4, 2});
  struct Case {
    std::int64_t pos;
    std::size_t index;
  };
  for (const Case& c : {Case{0, 0}, {3, 0}, {4, 1}, {7, 1}, {8, 2}, {9, 2}, {10, 3}, {-1, 3}}) {
    EXPECT_EQ(findChunk(refs, c.pos), c.index) << "pos " << c.pos;
  }
  EXPECT_EQ(findChunk({}, 0), 0u);
}

TEST(FindChunkTest, APageStartingLaterDoesNotCoverEarlierBytes) {
  std::vector<ChunkRef> page = manifest({4, 4});
  page.erase(page.begin());  // the page of a reader positioned at byte 4 or later
  EXPECT_EQ(findChunk(page, 2), page.size());
  EXPECT_EQ(findChunk(page, 5), 0u);
}

TEST(PlanCopyTest, WholeChunksAreReferencedAndEdgesCopied) {
  const std::vector<ChunkRef> refs = manifest({4, 4, 4, 3});
  // Bytes 2..12: the tail of c0, all of c1 and c2, the first byte of c3.
  std::vector<CopyStep> steps = planCopy(refs, 2, 11);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_FALSE(steps[0].reference);
  EXPECT_EQ(steps[0].chunk.name, "c0");
  EXPECT_EQ(steps[0].skip, 2);
  EXPECT_EQ(steps[0].length, 2);
  EXPECT_TRUE(steps[1].reference);
  EXPECT_EQ(steps[1].chunk.name, "c1");
  EXPECT_EQ(steps[1].length, 4);
  EXPECT_TRUE(steps[2].reference);
  EXPECT_FALSE(steps[3].reference);
  EXPECT_EQ(steps[3].chunk.name, "c3");
  EXPECT_EQ(steps[3].skip, 0);
  EXPECT_EQ(steps[3].length, 1);
}

TEST(PlanCopyTest, ARangeInsideOneChunkIsOneCopy) {
  std::vector<CopyStep> steps = planCopy(manifest({8}), 3, 2);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_FALSE(steps[0].reference);
  EXPECT_EQ(steps[0].skip, 3);
  EXPECT_EQ(steps[0].length, 2);
}

TEST(PlanCopyTest, TheWholeManifestIsAllReferences) {
  std::vector<CopyStep> steps = planCopy(manifest({4, 4, 1}), 0, 9);
  ASSERT_EQ(steps.size(), 3u);
  for (const CopyStep& s : steps) EXPECT_TRUE(s.reference);
  EXPECT_TRUE(planCopy(manifest({4}), 0, 0).empty());
}

TEST(PlanCopyTest, StopsWhereThePageEnds) {
  // A page covering bytes 0..7 of a longer blob: the caller fetches the next page for the rest.
  std::vector<CopyStep> steps = planCopy(manifest({4, 4}), 6, 100);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].skip, 2);
  EXPECT_EQ(steps[0].length, 2);
}

}  // namespace
}  // namespace dcloud::gateway
