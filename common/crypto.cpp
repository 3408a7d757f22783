#include "common/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace dcloud {

void ensureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no safe way to continue without a CSPRNG
  });
}

std::string toHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return invalidArgument("hex string has odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalidArgument("invalid hex digit");
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string sha256(std::string_view data) {
  Sha256 hash;  // one SHA-256 for payloads: the stream digest's (SHA extensions where present)
  hash.update(data);
  return hash.finish();
}

std::string sha256Hex(std::string_view data) {
  return toHex(sha256(data));
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  ensureSodium();
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

namespace {

const EVP_MD* fetchedDigest(StreamDigest::Algorithm algorithm) {
  // Fetched once: an implicit fetch per EVP_DigestInit_ex takes a lock and a lookup.
  static const EVP_MD* const kMd5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static const EVP_MD* const kSha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  switch (algorithm) {
    case StreamDigest::Algorithm::kMd5: return kMd5;
    case StreamDigest::Algorithm::kSha1: return kSha1;
    case StreamDigest::Algorithm::kSha256: return kSha256;
  }
  return nullptr;
}

}  // namespace

StreamDigest::StreamDigest(Algorithm algorithm) : context_(EVP_MD_CTX_new()) {
  const EVP_MD* md = fetchedDigest(algorithm);
  // Only allocation failure or a broken OpenSSL installation gets here; neither is recoverable.
  if (context_ == nullptr || md == nullptr || EVP_DigestInit_ex(context_, md, nullptr) != 1) {
    std::abort();
  }
}

StreamDigest::~StreamDigest() {
  EVP_MD_CTX_free(context_);
}

StreamDigest::StreamDigest(StreamDigest&& other) noexcept : context_(other.context_) {
  other.context_ = nullptr;
}

StreamDigest& StreamDigest::operator=(StreamDigest&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(context_);
    context_ = other.context_;
    other.context_ = nullptr;
  }
  return *this;
}

void StreamDigest::update(const void* data, std::size_t n) {
  EVP_DigestUpdate(context_, data, n);
}

std::string StreamDigest::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(context_, digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string StreamDigest::finishHex() {
  return toHex(finish());
}

std::string base64Encode(std::string_view bytes) {
  ensureSodium();
  const std::size_t len = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  ensureSodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t out_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &out_len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return invalidArgument("invalid base64");
  }
  out.resize(out_len);
  return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  ensureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dcloud
