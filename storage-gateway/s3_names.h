#pragma once
// Naming rules for buckets and object keys, as S3 enforces them.

#include <cstddef>
#include <string_view>

#include "common/result.h"

namespace dcloud::gateway {

constexpr std::size_t kMaxKeyBytes = 1024;

// 3-63 characters of lowercase letters, digits, '-' and '.'; begins and ends with a letter or
// digit; no "..", no ".-" / "-."; not shaped like an IPv4 address.
bool isValidBucketName(std::string_view name);
// InvalidBucketName when !isValidBucketName.
Status validateBucketName(std::string_view name);
// Keys are 1..1024 bytes of valid UTF-8 without NUL. KeyTooLongError for length, InvalidArgument
// otherwise.
Status validateObjectKey(std::string_view key);
bool isValidUtf8(std::string_view text);

}  // namespace dcloud::gateway
