#include "storage-gateway/chunk_cipher.h"

#include <gtest/gtest.h>

#include "common/random.h"

namespace dcloud::gateway {
namespace {

ChunkCipher cipherFor(std::uint64_t seed) {
  SeededRandom random(seed);
  Result<ChunkCipher> c = ChunkCipher::fromDataKey(ChunkCipher::newDataKey(random));
  EXPECT_TRUE(c.ok());
  return *c;
}

// Splits a sealed chunk file into header and body, as the reader reads it.
Status openFile(const ChunkCipher& c, const std::string& name, const std::string& file,
                std::string& plain) {
  plain = file.substr(kChunkHeaderBytes);
  return c.open(name, file.data(), plain);
}

TEST(ChunkCipherTest, NamesAreKeyedPerBucketAndDeterministic) {
  const ChunkCipher a = cipherFor(1);
  const ChunkCipher b = cipherFor(2);
  const std::string data = "the same bytes";
  EXPECT_EQ(a.name(data.data(), data.size()), a.name(data.data(), data.size()));
  EXPECT_EQ(a.name(data.data(), data.size()).size(), 64u);
  EXPECT_NE(a.name(data.data(), data.size()), b.name(data.data(), data.size()));
  EXPECT_NE(a.name(data.data(), data.size()), a.name("other", 5));
}

TEST(ChunkCipherTest, SealedChunksRoundTripAndHideThePlaintext) {
  const ChunkCipher c = cipherFor(3);
  SeededRandom random(4);
  for (const std::string& data : {std::string(), std::string("x"), std::string(100000, 'z')}) {
    const std::string name = c.name(data.data(), data.size());
    std::string file;
    c.seal(name, data.data(), data.size(), random, file);
    EXPECT_EQ(file.size(), kChunkHeaderBytes + data.size() + kChunkTagBytes);
    if (data.size() > 16) {
      EXPECT_EQ(file.find(data.substr(0, 16)), std::string::npos);
    }
    std::string plain;
    ASSERT_TRUE(openFile(c, name, file, plain).ok());
    EXPECT_EQ(plain, data);
  }
}

TEST(ChunkCipherTest, TamperedWrongNameOrWrongKeyFailsToOpen) {
  const ChunkCipher c = cipherFor(5);
  SeededRandom random(6);
  const std::string data(5000, 'q');
  const std::string name = c.name(data.data(), data.size());
  std::string file;
  c.seal(name, data.data(), data.size(), random, file);
  std::string plain;
  for (std::size_t at : {std::size_t{5}, kChunkHeaderBytes + 10, file.size() - 1}) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 1);
    EXPECT_FALSE(openFile(c, name, bad, plain).ok()) << "flipped byte " << at;
  }
  std::string magic = file;
  magic[0] = 'X';
  EXPECT_FALSE(openFile(c, name, magic, plain).ok());
  const std::string other_name(64, 'a');
  EXPECT_FALSE(openFile(c, other_name, file, plain).ok());
  EXPECT_FALSE(openFile(cipherFor(7), name, file, plain).ok());
  std::string truncated = file.substr(0, kChunkHeaderBytes + 3);
  EXPECT_FALSE(openFile(c, name, truncated, plain).ok());
}

TEST(ChunkCipherTest, RejectsKeysOfTheWrongSize) {
  EXPECT_FALSE(ChunkCipher::fromDataKey("short").ok());
}

}  // namespace
}  // namespace dcloud::gateway
