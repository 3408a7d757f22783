#include "storage-gateway/s3_names.h"

#include <cstdint>
#include <string>

#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool looksLikeIpv4(std::string_view name) {
  int dots = 0;
  for (char c : name) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 3;
}

}  // namespace

bool isValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  if (!isLowerAlnum(name.front()) || !isLowerAlnum(name.back())) return false;
  char prev = 0;
  for (char c : name) {
    if (!isLowerAlnum(c) && c != '-' && c != '.') return false;
    if (c == '.' && (prev == '.' || prev == '-')) return false;
    if (c == '-' && prev == '.') return false;
    prev = c;
  }
  return !looksLikeIpv4(name);
}

Status validateBucketName(std::string_view name) {
  if (isValidBucketName(name)) return okStatus();
  return s3Error("InvalidBucketName", "The specified bucket is not valid.");
}

bool isValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Status validateObjectKey(std::string_view key) {
  if (key.empty()) return s3Error("InvalidArgument", "The object key must not be empty.");
  if (key.size() > kMaxKeyBytes) {
    return s3Error("KeyTooLongError", "Your key is too long (at most 1024 bytes).");
  }
  if (key.find('\0') != std::string_view::npos) {
    return s3Error("InvalidArgument", "Object keys may not contain NUL characters.");
  }
  if (!isValidUtf8(key)) return s3Error("InvalidArgument", "Object keys must be valid UTF-8.");
  return okStatus();
}

}  // namespace dcloud::gateway
