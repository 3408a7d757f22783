#include "common/identity.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/json.h"
#include "common/service.h"

namespace dcloud {

KeyPair KeyPair::generate() {
  ensureSodium();
  KeyPair kp;
  kp.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  kp.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(kp.public_key_.data()),
                      reinterpret_cast<unsigned char*>(kp.secret_key_.data()));
  kp.id_ = toHex(kp.public_key_);
  return kp;
}

Result<KeyPair> KeyPair::fromSecretHex(std::string_view secret_hex) {
  ensureSodium();
  auto raw = fromHex(secret_hex);
  if (!raw.ok() || raw->size() != crypto_sign_SECRETKEYBYTES) {
    return invalidArgument("secret key must be 128 hex characters");
  }
  KeyPair kp;
  kp.secret_key_ = *raw;
  // The secret key is seed + public key; derive the public key from the seed (sk_to_pk would only
  // copy the second half) and make sure the two halves agree.
  std::string derived_sk(crypto_sign_SECRETKEYBYTES, '\0');
  kp.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(kp.public_key_.data()),
                           reinterpret_cast<unsigned char*>(derived_sk.data()),
                           reinterpret_cast<const unsigned char*>(kp.secret_key_.data()));
  sodium_memzero(derived_sk.data(), derived_sk.size());
  if (kp.secret_key_.compare(32, 32, kp.public_key_) != 0) {
    return invalidArgument("secret key is inconsistent");
  }
  kp.id_ = toHex(kp.public_key_);
  return kp;
}

Result<KeyPair> KeyPair::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return notFound("key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return permissionDenied("key file " + path + " is readable by others; chmod 600 it");
  }
  auto text = readFile(path);
  if (!text.ok()) return text.error();
  auto obj = parseJsonObject(*text);
  if (!obj.ok()) return invalidArgument("key file " + path + " is not a dcloud key");
  auto secret = getString(*obj, "secret");
  if (!secret.ok()) return invalidArgument("key file " + path + " has no secret");
  auto kp = fromSecretHex(*secret);
  if (!kp.ok()) return invalidArgument("key file " + path + ": " + kp.error().message);
  auto id = getOptionalString(*obj, "id");
  if (!id.ok()) return invalidArgument("key file " + path + ": id is not a string");
  if (id->has_value() && **id != kp->id()) {
    return invalidArgument("key file " + path + ": id does not match the secret");
  }
  return kp;
}

Status KeyPair::save(const std::string& path) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return alreadyExists("key file " + path + " already exists");
    return internalError("cannot create " + path + ": " + std::strerror(errno));
  }
  std::string text = "{\"id\": \"" + id_ + "\", \"secret\": \"" + secretHex() + "\"}\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return internalError("cannot write " + path);
  return okStatus();
}

std::string KeyPair::sign(std::string_view message) const {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_key_.data()));
  return toHex(std::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
}

std::string KeyPair::secretHex() const {
  return toHex(secret_key_);
}

bool isValidPrincipalId(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool verifySignature(std::string_view id, std::string_view message,
                     std::string_view signature_hex) {
  if (!isValidPrincipalId(id) || signature_hex.size() != 2 * crypto_sign_BYTES) return false;
  auto pk = fromHex(id);
  auto sig = fromHex(signature_hex);
  if (!pk.ok() || !sig.ok()) return false;
  ensureSodium();
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(pk->data())) == 0;
}

}  // namespace dcloud
