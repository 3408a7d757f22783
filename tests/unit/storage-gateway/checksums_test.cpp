#include "storage-gateway/checksums.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto.h"

namespace dcloud::gateway {
namespace {

constexpr const char* kCheck = "123456789";

// The "check" values of the CRC catalogue (reveng) for "123456789".
TEST(ChecksumsTest, CrcCheckValues) {
  Crc32 crc32;
  crc32.update(kCheck);
  EXPECT_EQ(crc32.value(), 0xcbf43926u);
  Crc32c crc32c;
  crc32c.update(kCheck);
  EXPECT_EQ(crc32c.value(), 0xe3069283u);
  Crc64Nvme crc64;
  crc64.update(kCheck);
  EXPECT_EQ(crc64.value(), 0xae8b14860a799888ull);
}

// Bit by bit, straight from the definition of a reflected CRC.
template <typename T>
T bitwiseCrc(T poly, std::string_view data) {
  T crc = ~T{0};
  for (unsigned char c : data) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
  }
  return ~crc;
}

// The eight-bytes-at-a-time path agrees with the definition at every length and alignment and
// however the stream is split into updates.
TEST(ChecksumsTest, SlicedCrcsMatchTheBitwiseDefinition) {
  std::string data(4099, '\0');
  std::uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  for (std::size_t length : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 1000, 4099}) {
    for (std::size_t start : {0, 1, 3}) {
      if (start + length > data.size()) continue;
      const std::string_view part = std::string_view(data).substr(start, length);
      Crc32 crc32;
      Crc32c crc32c;
      Crc64Nvme crc64;
      for (std::size_t at = 0; at < part.size(); at += 13) {
        crc32.update(part.substr(at, 13));
        crc32c.update(part.substr(at, 13));
        crc64.update(part.substr(at, 13));
      }
      EXPECT_EQ(crc32.value(), bitwiseCrc<std::uint32_t>(0xedb88320u, part)) << length;
      EXPECT_EQ(crc32c.value(), bitwiseCrc<std::uint32_t>(0x82f63b78u, part)) << length;
      EXPECT_EQ(crc64.value(), bitwiseCrc<std::uint64_t>(0x9a6c9329ac4bc9b5ull, part)) << length;
      Crc32 whole;
      whole.update(part);
      EXPECT_EQ(whole.value(), crc32.value());
    }
  }
}

TEST(ChecksumsTest, EmptyInputs) {
  EXPECT_EQ(Crc32().value(), 0u);
  EXPECT_EQ(Crc32c().value(), 0u);
  EXPECT_EQ(Crc64Nvme().value(), 0u);
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kCrc32, ""), "AAAAAA==");
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kSha1, ""), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kSha256, ""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(ChecksumsTest, Base64OfBigEndianDigests) {
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kCrc32, kCheck), base64Encode("\xcb\xf4\x39\x26"));
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kCrc32c, kCheck), base64Encode("\xe3\x06\x92\x83"));
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kCrc64Nvme, kCheck),
            base64Encode("\xae\x8b\x14\x86\x0a\x79\x98\x88"));
  // The AWS documentation's trailing-checksum example: 66560 bytes of 'a'.
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kCrc32c, std::string(66560, 'a')), "sOO8/Q==");
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kSha1, "abc"), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  EXPECT_EQ(checksumBase64(ChecksumAlgorithm::kSha256, "abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(ChecksumsTest, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);
  for (ChecksumAlgorithm a :
       {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
        ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
    std::unique_ptr<Checksummer> c = makeChecksummer(a);
    for (std::size_t i = 0; i < data.size(); i += 777) c->update(data.substr(i, 777));
    const std::string raw = c->finish();
    EXPECT_EQ(raw.size(), checksumBytes(a)) << checksumName(a);
    EXPECT_EQ(base64Encode(raw), checksumBase64(a, data)) << checksumName(a);
  }
}

TEST(ChecksumsTest, NamesAndHeaders) {
  EXPECT_EQ(checksumFromName("crc64nvme"), ChecksumAlgorithm::kCrc64Nvme);
  EXPECT_EQ(checksumFromName("CRC32C"), ChecksumAlgorithm::kCrc32c);
  EXPECT_EQ(checksumFromName("md5"), std::nullopt);
  EXPECT_EQ(checksumFromHeader("x-amz-checksum-sha256"), ChecksumAlgorithm::kSha256);
  EXPECT_EQ(checksumFromHeader("x-amz-checksum-mode"), std::nullopt);
  EXPECT_EQ(checksumFromHeader("x-amz-meta-crc32"), std::nullopt);
  EXPECT_EQ(checksumHeader(ChecksumAlgorithm::kCrc64Nvme), "x-amz-checksum-crc64nvme");
}

}  // namespace
}  // namespace dcloud::gateway
