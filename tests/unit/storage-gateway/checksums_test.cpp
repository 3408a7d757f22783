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
