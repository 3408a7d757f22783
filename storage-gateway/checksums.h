#pragma once
// The S3 additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), computed incrementally
// while a body streams. The CRCs are table-driven and written here, as no dependency of the
// project provides CRC32C or CRC64NVME. S3 sends and returns every checksum as the base64 of its
// big-endian bytes, in the headers x-amz-checksum-<lower-case name>.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dcloud::gateway {

enum class ChecksumAlgorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256".
std::string checksumName(ChecksumAlgorithm algorithm);
// "x-amz-checksum-crc32" etc.
std::string checksumHeader(ChecksumAlgorithm algorithm);
// Case-insensitive algorithm name ("crc32c") -> algorithm; nullopt if unknown.
std::optional<ChecksumAlgorithm> checksumFromName(std::string_view name);
// Lower-case header name ("x-amz-checksum-sha1") -> algorithm; nullopt if not a checksum header.
std::optional<ChecksumAlgorithm> checksumFromHeader(std::string_view lower_name);
// Size of the raw digest in bytes (4, 4, 8, 20, 32).
std::size_t checksumBytes(ChecksumAlgorithm algorithm);

// Reflected CRCs, one byte per table step; update() may be called any number of times.
class Crc32 {
 public:
  void update(std::string_view data);
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xffffffffu;
};

class Crc32c {
 public:
  void update(std::string_view data);
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xffffffffu;
};

class Crc64Nvme {
 public:
  void update(std::string_view data);
  std::uint64_t value() const { return ~state_; }

 private:
  std::uint64_t state_ = ~std::uint64_t{0};
};

// One of the algorithms behind a common face.
class Checksummer {
 public:
  virtual ~Checksummer() = default;
  virtual void update(std::string_view data) = 0;
  // Raw big-endian digest bytes; call once.
  virtual std::string finish() = 0;
};

std::unique_ptr<Checksummer> makeChecksummer(ChecksumAlgorithm algorithm);
// base64 of the digest of data (for tests and small bodies).
std::string checksumBase64(ChecksumAlgorithm algorithm, std::string_view data);

}  // namespace dcloud::gateway
