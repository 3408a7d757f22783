#pragma once
// S3 bucket lifecycle rules, pure (no I/O): the LifecycleConfiguration body and what the rules
// decide for one key's versions or one multipart upload at a given time. LifecycleRunner carries
// the decisions out.
//
// As in S3, "N days after" an event means the first midnight UTC at least N days after it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

constexpr std::size_t kMaxLifecycleRules = 1000;

struct LifecycleRule {
  std::string id;
  std::string prefix;  // "" applies to the whole bucket
  bool enabled = false;
  std::optional<int> expiration_days;
  std::optional<std::int64_t> expiration_date_ms;  // midnight UTC
  bool expired_object_delete_marker = false;
  std::optional<int> noncurrent_days;
  std::optional<int> abort_incomplete_days;
};

struct LifecycleConfig {
  std::vector<LifecycleRule> rules;
};

// <LifecycleConfiguration><Rule><ID/><Filter><Prefix/></Filter>|<Filter/>|<Prefix/><Status/>
// <Expiration><Days/>|<Date/>|<ExpiredObjectDeleteMarker/></Expiration>
// <NoncurrentVersionExpiration><NoncurrentDays/></NoncurrentVersionExpiration>
// <AbortIncompleteMultipartUpload><DaysAfterInitiation/></AbortIncompleteMultipartUpload></Rule>
// ...</LifecycleConfiguration>. MalformedXML for bad XML, a rule without Status or without any
// action, both Days and Date, both Filter and Prefix, duplicate IDs; InvalidArgument for a
// non-positive day count or a Date not at midnight UTC; NotImplemented for tag and size filters
// and transitions (there is one storage class).
Result<LifecycleConfig> parseLifecycle(const std::string& xml);
std::string lifecycleXml(const LifecycleConfig& config);

// The first midnight UTC at or after since_ms + days.
std::int64_t lifecycleDeadline(std::int64_t since_ms, int days);

// One version of a key as a lifecycle pass sees it.
struct LifecycleVersion {
  std::string version_id;
  bool delete_marker = false;
  std::int64_t last_modified_ms = 0;
};

struct KeyActions {
  bool expire_current = false;               // DELETE without version id (marker or removal)
  std::vector<std::string> remove_versions;  // DELETE by version id
};

// What the enabled rules do to key, whose versions are given newest first (versions[0] is the
// latest; in an unversioned bucket, the only one). A noncurrent version became noncurrent when
// the next newer version was written.
KeyActions planKeyActions(const LifecycleConfig& config, const std::string& key,
                          const std::vector<LifecycleVersion>& versions, std::int64_t now_ms);

// Whether an incomplete multipart upload of key, initiated at initiated_ms, is to be aborted.
bool shouldAbortUpload(const LifecycleConfig& config, const std::string& key,
                       std::int64_t initiated_ms, std::int64_t now_ms);

}  // namespace dcloud::gateway
