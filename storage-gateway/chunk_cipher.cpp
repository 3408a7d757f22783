#include "storage-gateway/chunk_cipher.h"

#include <sodium.h>

#include <cstring>

#include "common/crypto.h"

namespace dcloud::gateway {
namespace {

constexpr char kMagic[4] = {'D', 'C', 'C', '1'};
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "dcchunk_";
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 4 == kChunkHeaderBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kChunkTagBytes);

const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<ChunkCipher> ChunkCipher::fromDataKey(std::string_view data_key) {
  ensureSodium();
  if (data_key.size() != crypto_kdf_KEYBYTES) return invalidArgument("data key must be 32 bytes");
  ChunkCipher c;
  const auto* key = reinterpret_cast<const unsigned char*>(data_key.data());
  crypto_kdf_derive_from_key(c.name_key_, sizeof c.name_key_, 1, kKdfContext, key);
  crypto_kdf_derive_from_key(c.seal_key_, sizeof c.seal_key_, 2, kKdfContext, key);
  return c;
}

std::string ChunkCipher::newDataKey(Random& random) {
  std::string key(crypto_kdf_KEYBYTES, '\0');
  random.fill(reinterpret_cast<std::uint8_t*>(key.data()), key.size());
  return key;
}

std::string ChunkCipher::name(const char* data, std::size_t n) const {
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data), n, name_key_,
                     sizeof name_key_);
  return toHex(std::string(reinterpret_cast<const char*>(hash), sizeof hash));
}

void ChunkCipher::seal(const std::string& name, const char* data, std::size_t n, Random& random,
                       std::string& out) const {
  out.resize(kChunkHeaderBytes + n + kChunkTagBytes);
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  std::memcpy(p, kMagic, sizeof kMagic);
  unsigned char* nonce = p + sizeof kMagic;
  random.fill(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + kChunkHeaderBytes, &written,
                                             reinterpret_cast<const unsigned char*>(data), n,
                                             bytes(name), name.size(), nullptr, nonce, seal_key_);
}

Status ChunkCipher::open(const std::string& name, const char* header, std::string& body) const {
  if (body.size() < kChunkTagBytes || std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return internalError("chunk " + name + " is malformed");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(header + sizeof kMagic);
  auto* p = reinterpret_cast<unsigned char*>(body.data());
  unsigned long long plain = 0;
  // In place (libsodium allows the message at the ciphertext's address).
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, &plain, nullptr, p, body.size(), bytes(name),
                                                 name.size(), nonce, seal_key_) != 0) {
    return internalError("chunk " + name + " failed authentication (corrupt or tampered)");
  }
  body.resize(plain);
  return okStatus();
}

}  // namespace dcloud::gateway
