#include "storage-gateway/chunk_cipher.h"

#include <gtest/gtest.h>
#include <sodium.h>

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

// The file format is libsodium's XChaCha20-Poly1305 (IETF): files sealed here open with
// libsodium's own function under the documented subkey, and files libsodium seals open here.
TEST(ChunkCipherTest, FilesAreLibsodiumXChaCha20Poly1305) {
  SeededRandom random(8);
  const std::string data_key = ChunkCipher::newDataKey(random);
  Result<ChunkCipher> c = ChunkCipher::fromDataKey(data_key);
  ASSERT_TRUE(c.ok());
  unsigned char seal_key[32];
  crypto_kdf_derive_from_key(seal_key, sizeof seal_key, 2, "dcchunk_",
                             reinterpret_cast<const unsigned char*>(data_key.data()));
  const auto u = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
  };
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{65}, std::size_t{300000}}) {
    std::string data(size, '\0');
    random.fill(reinterpret_cast<std::uint8_t*>(data.data()), data.size());
    const std::string name = c->name(data.data(), data.size());
    std::string file;
    c->seal(name, data.data(), data.size(), random, file);
    std::string plain(size, '\0');
    unsigned long long plain_size = 0;
    const unsigned char* nonce = u(file) + 4;
    ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                  reinterpret_cast<unsigned char*>(plain.data()), &plain_size, nullptr,
                  u(file) + kChunkHeaderBytes, file.size() - kChunkHeaderBytes, u(name),
                  name.size(), nonce, seal_key),
              0)
        << size;
    EXPECT_EQ(plain, data);

    std::string theirs = file.substr(0, kChunkHeaderBytes);
    theirs.resize(kChunkHeaderBytes + size + kChunkTagBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<unsigned char*>(theirs.data()) + kChunkHeaderBytes, &written, u(data),
        data.size(), u(name), name.size(), nullptr, nonce, seal_key);
    EXPECT_EQ(theirs, file) << size;
    std::string opened;
    ASSERT_TRUE(openFile(*c, name, theirs, opened).ok());
    EXPECT_EQ(opened, data);
  }
}

TEST(ChunkCipherTest, RejectsKeysOfTheWrongSize) {
  EXPECT_FALSE(ChunkCipher::fromDataKey("short").ok());
}

}  // namespace
}  // namespace dcloud::gateway
