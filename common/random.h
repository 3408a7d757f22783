#pragma once
// Randomness is injected: SecureRandom for keys, nonces and ids; SeededRandom in tests.

#include <cstdint>
#include <string>

namespace dcloud {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::uint8_t* out, std::size_t n) = 0;
  // n random bytes as 2n lowercase hex characters.
  std::string hex(std::size_t n);
  std::uint64_t next64();
  // A random RFC 4122 version-4 UUID string.
  std::string uuid();
};

class SecureRandom final : public Random {
 public:
  void fill(std::uint8_t* out, std::size_t n) override;  // libsodium randombytes_buf
  static SecureRandom& instance();
};

// Deterministic (splitmix64) for tests; never for keys.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void fill(std::uint8_t* out, std::size_t n) override;

 private:
  std::uint64_t state_;
};

}  // namespace dcloud
