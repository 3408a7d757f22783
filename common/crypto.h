#pragma once
// Hashing and encoding helpers over libsodium and OpenSSL (the header exposes neither).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace dcloud {

std::string toHex(std::string_view bytes);
Result<std::string> fromHex(std::string_view hex);

std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256Hex(std::string_view data);
std::string hmacSha256(std::string_view key,
                       std::string_view data);  // raw 32 bytes, any key length

// Incremental digests for streams, over OpenSSL: its assembly MD5, and SHA-1/SHA-256 with the
// CPU's SHA extensions where present (1.3x Poco's MD5 and 2.5x libsodium's SHA-256 on the x86
// machines we run on); these hash every byte an S3 client uploads. Move-only.
class StreamDigest {
 public:
  enum class Algorithm { kMd5, kSha1, kSha256 };
  explicit StreamDigest(Algorithm algorithm);
  ~StreamDigest();
  StreamDigest(StreamDigest&& other) noexcept;
  StreamDigest& operator=(StreamDigest&& other) noexcept;
  StreamDigest(const StreamDigest&) = delete;
  StreamDigest& operator=(const StreamDigest&) = delete;

  void update(const void* data, std::size_t n);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string finish();  // raw digest; call once
  std::string finishHex();

 private:
  evp_md_ctx_st* context_;
};

class Sha256 : public StreamDigest {
 public:
  Sha256() : StreamDigest(Algorithm::kSha256) {}
};

class Md5 : public StreamDigest {
 public:
  Md5() : StreamDigest(Algorithm::kMd5) {}
};

// Base64 for Content-MD5 and keys.
std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);

// Constant-time comparison of equal-length strings.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Initialises libsodium once; every function above calls it.
void ensureSodium();

}  // namespace dcloud
