#pragma once
// Every principal is an ed25519 key pair; its id is the public key in lowercase hex (64 chars).
// Key files hold one JSON object {"id": ..., "secret": ...} and are created with mode 0600.

#include <string>
#include <string_view>

#include "common/result.h"

namespace dcloud {

class KeyPair {
 public:
  static KeyPair generate();
  // Fails with InvalidArgument on a malformed file, PermissionDenied if it is readable by others.
  static Result<KeyPair> load(const std::string& path);
  static Result<KeyPair> fromSecretHex(std::string_view secret_hex);
  // Writes the key with mode 0600; refuses to overwrite an existing file.
  Status save(const std::string& path) const;

  const std::string& id() const { return id_; }
  // Detached signature over message, 128 hex characters.
  std::string sign(std::string_view message) const;
  std::string secretHex() const;

 private:
  KeyPair() = default;
  std::string public_key_;  // 32 raw bytes
  std::string secret_key_;  // 64 raw bytes (seed + public key)
  std::string id_;
};

bool isValidPrincipalId(std::string_view id);
// True when signature_hex is a valid ed25519 signature by principal id over message.
bool verifySignature(std::string_view id, std::string_view message, std::string_view signature_hex);

}  // namespace dcloud
