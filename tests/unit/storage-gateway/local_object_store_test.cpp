#include "storage-gateway/local_object_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/random.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway {
namespace {

std::size_t filesUnder(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) ++n;
  }
  return n;
}

TEST(LocalObjectStoreTest, WriteFinishReadRemove) {
  const std::string dir = dcloud::testing::makeTempDir();
  SeededRandom random(7);
  auto store = LocalObjectStore::openDir(dir, random);
  ASSERT_TRUE(store.ok());
  auto writer = (*store)->create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write("hello ", 6).ok());
  ASSERT_TRUE((*writer)->write("world", 5).ok());
  ASSERT_TRUE((*writer)->finish().ok());
  const std::string id = (*writer)->id();
  writer->reset();
  EXPECT_EQ(filesUnder((*store)->tmpDir()), 0u);

  auto reader = (*store)->open(id);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 11);
  ASSERT_TRUE((*reader)->seek(6).ok());
  char buf[16];
  Result<std::size_t> n = (*reader)->read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "world");

  ASSERT_TRUE((*store)->remove(id).ok());
  EXPECT_EQ((*store)->open(id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE((*store)->remove(id).ok());  // idempotent
}

TEST(LocalObjectStoreTest, AbandonedWriterLeavesNothing) {
  const std::string dir = dcloud::testing::makeTempDir();
  SeededRandom random(8);
  auto store = LocalObjectStore::openDir(dir, random);
  ASSERT_TRUE(store.ok());
  {
    auto writer = (*store)->create();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write("partial", 7).ok());
    EXPECT_EQ(filesUnder(dir), 1u);
  }
  EXPECT_EQ(filesUnder(dir), 0u);
}

TEST(LocalObjectStoreTest, StartRemovesLeftoverTempFiles) {
  const std::string dir = dcloud::testing::makeTempDir();
  SeededRandom random(9);
  {
    auto store = LocalObjectStore::openDir(dir, random);
    ASSERT_TRUE(store.ok());
  }
  std::filesystem::create_directories(dir + "/tmp");
  { std::ofstream(dir + "/tmp/deadbeefdeadbeef") << "crash leftover"; }
  auto store = LocalObjectStore::openDir(dir, random);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(filesUnder(dir), 0u);
}

TEST(LocalObjectStoreTest, RefusesIdsThatAreNotOurs) {
  const std::string dir = dcloud::testing::makeTempDir();
  SeededRandom random(10);
  auto store = LocalObjectStore::openDir(dir, random);
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->open("../../etc/passwd").ok());
  EXPECT_FALSE((*store)->remove("../x").ok());
}

}  // namespace
}  // namespace dcloud::gateway
