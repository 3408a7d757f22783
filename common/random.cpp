#include "common/random.h"

#include <sodium.h>

#include <cstdio>

#include "common/crypto.h"

namespace dcloud {

std::string Random::hex(std::size_t n) {
  std::string bytes(n, '\0');
  fill(reinterpret_cast<std::uint8_t*>(bytes.data()), n);
  return toHex(bytes);
}

std::uint64_t Random::next64() {
  std::uint64_t v = 0;
  fill(reinterpret_cast<std::uint8_t*>(&v), sizeof v);
  return v;
}

std::string Random::uuid() {
  std::uint8_t b[16];
  fill(b, sizeof b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

void SecureRandom::fill(std::uint8_t* out, std::size_t n) {
  ensureSodium();
  randombytes_buf(out, n);
}

SecureRandom& SecureRandom::instance() {
  static SecureRandom random;
  return random;
}

void SeededRandom::fill(std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) {
      state_ += 0x9e3779b97f4a7c15ULL;
    }
    std::uint64_t z = state_ + i / 8;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    out[i] = static_cast<std::uint8_t>(z >> ((i % 8) * 8));
  }
}

}  // namespace dcloud
