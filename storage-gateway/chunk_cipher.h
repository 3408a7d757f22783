#pragma once
// Naming and sealing of chunks with a bucket's data key. From the 32-byte data key two subkeys are
// derived (libsodium's crypto_kdf): one keys HMAC-SHA-256 for chunk names, so equal plaintexts of
// one bucket get one name while names say nothing across buckets; the other encrypts chunk files
// with XChaCha20-Poly1305 (IETF AEAD), the chunk name as associated data so that a file moved
// under another name does not open. Both run in OpenSSL (SHA extensions, vectorised ChaCha20 and
// Poly1305); the files are exactly libsodium's XChaCha20-Poly1305 output. Earlier versions named
// chunks with keyed BLAKE2b; names are opaque once stored, so such chunks still open and are
// collected as before; only deduplication between an old and a new copy is missed.
//
// Chunk file: "DCC1" || 24-byte random nonce || ciphertext || 16-byte tag.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/random.h"
#include "common/result.h"

namespace dcloud::gateway {

inline constexpr std::size_t kChunkHeaderBytes = 4 + 24;
inline constexpr std::size_t kChunkTagBytes = 16;

class ChunkCipher {
 public:
  // InvalidArgument unless data_key is 32 bytes.
  static Result<ChunkCipher> fromDataKey(std::string_view data_key);
  // A fresh random 32-byte data key.
  static std::string newDataKey(Random& random);

  // 64 hex characters.
  std::string name(const char* data, std::size_t n) const;
  // The chunk file for plaintext under name (kChunkHeaderBytes + n + kChunkTagBytes bytes) into
  // out, which is resized.
  void seal(const std::string& name, const char* data, std::size_t n, Random& random,
            std::string& out) const;
  // Decrypts a chunk file read as header (kChunkHeaderBytes) and body (ciphertext || tag) in
  // place: on success body holds the plaintext. Internal when the file is malformed or does not
  // authenticate under name.
  Status open(const std::string& name, const char* header, std::string& body) const;

 private:
  ChunkCipher() = default;
  unsigned char name_key_[32] = {};
  unsigned char seal_key_[32] = {};
};

}  // namespace dcloud::gateway
