#pragma once
// The gateway master key: 32 random bytes in a file (64 hex characters, mode 0600) that encrypt
// the secrets of S3 access keys at rest (libsodium crypto_secretbox, XSalsa20-Poly1305).

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/result.h"

namespace dcloud::gateway {

class MasterKey {
 public:
  // Reads the key file, or creates it (0600, fresh random key) when it does not exist.
  // InvalidArgument on a malformed file, PermissionDenied if group or others may read it.
  static Result<MasterKey> loadOrCreate(const std::string& path, Random& random);
  // InvalidArgument unless raw is 32 bytes.
  static Result<MasterKey> fromBytes(std::string raw);

  // base64(nonce || secretbox(plaintext)), with a fresh random nonce.
  std::string seal(std::string_view plaintext, Random& random) const;
  // Internal if the box does not open (wrong key or tampered data).
  Result<std::string> open(std::string_view sealed) const;

 private:
  explicit MasterKey(std::string raw) : key_(std::move(raw)) {}
  std::string key_;
};

}  // namespace dcloud::gateway
