#include "storage-gateway/chunk_cipher.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/crypto.h"

namespace dcloud::gateway {
namespace {

constexpr char kMagic[4] = {'D', 'C', 'C', '1'};
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "dcchunk_";
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 4 == kChunkHeaderBytes);
static_assert(crypto_core_hchacha20_INPUTBYTES + 8 == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kChunkTagBytes);

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

// XChaCha20-Poly1305 (IETF), byte for byte what libsodium's crypto_aead_xchacha20poly1305_ietf_*
// produce: HChaCha20 of the key and the nonce's first 16 bytes gives a subkey, under which
// ChaCha20-Poly1305 (RFC 8439) runs with the nonce 0^4 || the nonce's last 8 bytes. The AEAD
// itself runs in OpenSSL, whose vectorised ChaCha20 and Poly1305 are about 2.5x libsodium's on
// our machines; every stored and every read byte passes through here.
class CipherContext {
 public:
  CipherContext(const unsigned char* key, const unsigned char* nonce, bool encrypt)
      : ctx_(EVP_CIPHER_CTX_new()) {
    static EVP_CIPHER* const kCipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    unsigned char subkey[crypto_core_hchacha20_OUTPUTBYTES];
    crypto_core_hchacha20(subkey, nonce, key, nullptr);
    unsigned char iv[12] = {0, 0, 0, 0};
    std::memcpy(iv + 4, nonce + crypto_core_hchacha20_INPUTBYTES, 8);
    // Only allocation failure or a broken OpenSSL installation fails here.
    if (ctx_ == nullptr || kCipher == nullptr ||
        EVP_CipherInit_ex(ctx_, kCipher, nullptr, subkey, iv, encrypt ? 1 : 0) != 1) {
      std::abort();
    }
    sodium_memzero(subkey, sizeof subkey);
  }
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx_); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;

  EVP_CIPHER_CTX* get() { return ctx_; }
  void addAssociatedData(const std::string& ad) {
    int unused = 0;
    EVP_CipherUpdate(ctx_, nullptr, &unused, reinterpret_cast<const unsigned char*>(ad.data()),
                     static_cast<int>(ad.size()));
  }
  // Stream cipher: out receives exactly n bytes; in == out is allowed.
  void run(const unsigned char* in, std::size_t n, unsigned char* out) {
    constexpr std::size_t kStep = std::size_t{1} << 30;  // EVP lengths are ints
    for (std::size_t done = 0; done < n;) {
      const std::size_t step = std::min(kStep, n - done);
      int written = 0;
      EVP_CipherUpdate(ctx_, out + done, &written, in + done, static_cast<int>(step));
      done += step;
    }
  }
  // False when decryption does not authenticate.
  bool finish() {
    unsigned char tail[16];
    int unused = 0;
    return EVP_CipherFinal_ex(ctx_, tail, &unused) == 1;
  }

 private:
  EVP_CIPHER_CTX* ctx_;
};

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
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), name_key_, sizeof name_key_, reinterpret_cast<const unsigned char*>(data), n,
       hash, &size);
  return toHex(std::string(reinterpret_cast<const char*>(hash), size));
}

void ChunkCipher::seal(const std::string& name, const char* data, std::size_t n, Random& random,
                       std::string& out) const {
  out.resize(kChunkHeaderBytes + n + kChunkTagBytes);
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  std::memcpy(p, kMagic, sizeof kMagic);
  unsigned char* nonce = p + sizeof kMagic;
  random.fill(nonce, kNonceBytes);
  CipherContext ctx(seal_key_, nonce, true);
  ctx.addAssociatedData(name);
  ctx.run(reinterpret_cast<const unsigned char*>(data), n, p + kChunkHeaderBytes);
  ctx.finish();
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kChunkTagBytes, p + kChunkHeaderBytes + n);
}

Status ChunkCipher::open(const std::string& name, const char* header, std::string& body) const {
  if (body.size() < kChunkTagBytes || std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return internalError("chunk " + name + " is malformed");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(header + sizeof kMagic);
  auto* p = reinterpret_cast<unsigned char*>(body.data());
  const std::size_t plain = body.size() - kChunkTagBytes;
  CipherContext ctx(seal_key_, nonce, false);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kChunkTagBytes, p + plain);
  ctx.addAssociatedData(name);
  ctx.run(p, plain, p);  // in place
  if (!ctx.finish()) {
    return internalError("chunk " + name + " failed authentication (corrupt or tampered)");
  }
  body.resize(plain);
  return okStatus();
}

}  // namespace dcloud::gateway
