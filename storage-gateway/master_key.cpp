#include "storage-gateway/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/service.h"

namespace dcloud::gateway {
namespace {

Result<MasterKey> createKeyFile(const std::string& path, Random& random) {
  std::string raw(crypto_secretbox_KEYBYTES, '\0');
  random.fill(reinterpret_cast<std::uint8_t*>(raw.data()), raw.size());
  const std::string text = toHex(raw) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return internalError("cannot create master key file " + path + ": " + std::strerror(errno));
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    ::unlink(path.c_str());
    return internalError("cannot write master key file " + path);
  }
  return MasterKey::fromBytes(raw);
}

}  // namespace

Result<MasterKey> MasterKey::loadOrCreate(const std::string& path, Random& random) {
  ensureSodium();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return createKeyFile(path, random);
    return internalError("cannot stat master key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return permissionDenied("master key file " + path + " is readable by group or others");
  }
  Result<std::string> text = readFile(path);
  if (!text.ok()) return text.error();
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.pop_back();
  }
  Result<std::string> raw = fromHex(hex);
  if (!raw.ok() || raw->size() != crypto_secretbox_KEYBYTES) {
    return invalidArgument("master key file " + path + " must hold 64 hex characters");
  }
  return fromBytes(*raw);
}

Result<MasterKey> MasterKey::fromBytes(std::string raw) {
  if (raw.size() != crypto_secretbox_KEYBYTES) return invalidArgument("master key: need 32 bytes");
  return MasterKey(std::move(raw));
}

std::string MasterKey::seal(std::string_view plaintext, Random& random) const {
  ensureSodium();
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random.fill(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  return base64Encode(out);
}

Result<std::string> MasterKey::open(std::string_view sealed) const {
  ensureSodium();
  Result<std::string> raw = base64Decode(sealed);
  if (!raw.ok() || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return internalError("sealed secret is malformed");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
  const std::size_t box_len = raw->size() - crypto_secretbox_NONCEBYTES;
  std::string plain(box_len - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES, box_len, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return internalError("sealed secret does not open with this master key");
  }
  return plain;
}

}  // namespace dcloud::gateway
