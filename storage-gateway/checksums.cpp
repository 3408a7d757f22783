#include "storage-gateway/checksums.h"

#include <array>
#include <cctype>

#include "common/crypto.h"

namespace dcloud::gateway {
namespace {

// Reflected polynomials: CRC-32 (ISO-HDLC), CRC-32C (Castagnoli), CRC-64/NVME.
constexpr std::uint32_t kCrc32Poly = 0xedb88320u;
constexpr std::uint32_t kCrc32cPoly = 0x82f63b78u;
constexpr std::uint64_t kCrc64NvmePoly = 0x9a6c9329ac4bc9b5ull;

// Slicing-by-8 tables: slice[0] is the classic byte table; slice[k][b] is the CRC of byte b
// followed by k zero bytes, so eight table lookups consume eight input bytes at once (about 6x
// the byte-at-a-time loop; every byte of an upload with a CRC checksum passes through here).
template <typename T>
using CrcSlices = std::array<std::array<T, 256>, 8>;

template <typename T>
constexpr CrcSlices<T> crcSlices(T poly) {
  CrcSlices<T> slice{};
  for (std::size_t i = 0; i < 256; ++i) {
    T crc = static_cast<T>(i);
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
    slice[0][i] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t i = 0; i < 256; ++i) {
      const T prev = slice[k - 1][i];
      slice[k][i] = (prev >> 8) ^ slice[0][prev & 0xff];
    }
  }
  return slice;
}

constexpr auto kCrc32Table = crcSlices<std::uint32_t>(kCrc32Poly);
constexpr auto kCrc32cTable = crcSlices<std::uint32_t>(kCrc32cPoly);
constexpr auto kCrc64NvmeTable = crcSlices<std::uint64_t>(kCrc64NvmePoly);

std::uint64_t loadLittleEndian64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // compiles to one load on x86
  return v;
}

// Reflected CRCs of 32 or 64 bits: the state's bytes line up with the first input bytes.
template <typename T>
T crcUpdate(T state, const CrcSlices<T>& slice, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint64_t w = loadLittleEndian64(p) ^ static_cast<std::uint64_t>(state);
    state = slice[7][w & 0xff] ^ slice[6][(w >> 8) & 0xff] ^ slice[5][(w >> 16) & 0xff] ^
            slice[4][(w >> 24) & 0xff] ^ slice[3][(w >> 32) & 0xff] ^ slice[2][(w >> 40) & 0xff] ^
            slice[1][(w >> 48) & 0xff] ^ slice[0][w >> 56];
  }
  for (; n > 0; ++p, --n) state = slice[0][(state ^ *p) & 0xff] ^ (state >> 8);
  return state;
}

template <typename T>
std::string bigEndian(T value) {
  std::string out(sizeof(T), '\0');
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

template <typename Crc>
class CrcChecksummer final : public Checksummer {
 public:
  void update(std::string_view data) override { crc_.update(data); }
  std::string finish() override { return bigEndian(crc_.value()); }

 private:
  Crc crc_;
};

class Sha1Checksummer final : public Checksummer {
 public:
  void update(std::string_view data) override { sha1_.update(data); }
  std::string finish() override { return sha1_.finish(); }

 private:
  StreamDigest sha1_{StreamDigest::Algorithm::kSha1};
};

class Sha256Checksummer final : public Checksummer {
 public:
  void update(std::string_view data) override { sha_.update(data); }
  std::string finish() override { return sha_.finish(); }

 private:
  Sha256 sha_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void Crc32::update(std::string_view data) {
  state_ = crcUpdate(state_, kCrc32Table, data);
}

void Crc32c::update(std::string_view data) {
  state_ = crcUpdate(state_, kCrc32cTable, data);
}

void Crc64Nvme::update(std::string_view data) {
  state_ = crcUpdate(state_, kCrc64NvmeTable, data);
}

std::string checksumName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32: return "CRC32";
    case ChecksumAlgorithm::kCrc32c: return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme: return "CRC64NVME";
    case ChecksumAlgorithm::kSha1: return "SHA1";
    case ChecksumAlgorithm::kSha256: return "SHA256";
  }
  return "";
}

std::string checksumHeader(ChecksumAlgorithm algorithm) {
  return "x-amz-checksum-" + lower(checksumName(algorithm));
}

std::optional<ChecksumAlgorithm> checksumFromName(std::string_view name) {
  const std::string n = lower(name);
  for (ChecksumAlgorithm a :
       {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
        ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
    if (lower(checksumName(a)) == n) return a;
  }
  return std::nullopt;
}

std::optional<ChecksumAlgorithm> checksumFromHeader(std::string_view lower_name) {
  constexpr std::string_view kPrefix = "x-amz-checksum-";
  if (lower_name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return checksumFromName(lower_name.substr(kPrefix.size()));
}

std::size_t checksumBytes(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c: return 4;
    case ChecksumAlgorithm::kCrc64Nvme: return 8;
    case ChecksumAlgorithm::kSha1: return 20;
    case ChecksumAlgorithm::kSha256: return 32;
  }
  return 0;
}

std::unique_ptr<Checksummer> makeChecksummer(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32: return std::make_unique<CrcChecksummer<Crc32>>();
    case ChecksumAlgorithm::kCrc32c: return std::make_unique<CrcChecksummer<Crc32c>>();
    case ChecksumAlgorithm::kCrc64Nvme: return std::make_unique<CrcChecksummer<Crc64Nvme>>();
    case ChecksumAlgorithm::kSha1: return std::make_unique<Sha1Checksummer>();
    case ChecksumAlgorithm::kSha256: return std::make_unique<Sha256Checksummer>();
  }
  return nullptr;
}

std::string checksumBase64(ChecksumAlgorithm algorithm, std::string_view data) {
  std::unique_ptr<Checksummer> c = makeChecksummer(algorithm);
  c->update(data);
  return base64Encode(c->finish());
}

}  // namespace dcloud::gateway
