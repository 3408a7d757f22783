#pragma once
// Hashing and encoding helpers over libsodium (the header does not expose sodium).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dcloud {

std::string toHex(std::string_view bytes);
Result<std::string> fromHex(std::string_view hex);

std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256Hex(std::string_view data);
std::string hmacSha256(std::string_view key,
                       std::string_view data);  // raw 32 bytes, any key length

// Incremental SHA-256 for streams.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string finishHex();
  std::string finish();  // raw

 private:
  alignas(64) std::array<std::uint8_t, 128> state_{};  // crypto_hash_sha256_state (104 bytes)
};

// Incremental MD5 (for S3 ETags) lives with the gateway; base64 here for Content-MD5 and keys.
std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

// Constant-time comparison of equal-length strings.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Initialises libsodium once; every function above calls it.
void ensureSodium();

}  // namespace dcloud
