#pragma once
// What one object version carries besides its bytes and metadata: Object Lock retention and legal
// hold, tags and a canned ACL (table gateway.version_attributes, sql/0007).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dcloud::gateway {

// An ordered tag set (S3 returns tags in the order they were given).
using TagSet = std::vector<std::pair<std::string, std::string>>;

struct VersionAttributes {
  std::string lock_mode;             // "", "GOVERNANCE" or "COMPLIANCE"
  std::int64_t retain_until_ms = 0;  // meaningful with a lock mode
  bool legal_hold = false;
  TagSet tags;
  std::string acl;  // canned ACL; "" means private

  bool empty() const {
    return lock_mode.empty() && !legal_hold && tags.empty() && (acl.empty() || acl == "private");
  }
};

}  // namespace dcloud::gateway
