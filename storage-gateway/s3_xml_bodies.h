#pragma once
// The XML bodies of CopyObject, DeleteObjects and the versioning operations: the request bodies
// clients send (parsed with Poco's DOM parser, external entities off) and the responses.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

constexpr std::size_t kMaxDeleteObjects = 1000;

struct DeleteObjectsBody {
  struct Entry {
    std::string key;
    std::optional<std::string> version_id;
  };
  bool quiet = false;
  std::vector<Entry> objects;
};
// <Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>. MalformedXML when the XML is
// not well formed, an object lacks a key, or there are none or more than 1000 objects.
Result<DeleteObjectsBody> parseDeleteObjects(const std::string& xml);

// <VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>:
// the status. MalformedXML otherwise (a missing status too).
Result<std::string> parseVersioningStatus(const std::string& xml);

struct DeleteResultEntry {
  std::string key;
  std::string version_id;  // as requested ("" when none)
  bool delete_marker = false;
  std::string delete_marker_version_id;  // the marker created or removed
  std::string error_code;                // non-empty: the key failed
  std::string error_message;
};
// DeleteResult; quiet leaves out the keys that were deleted.
std::string deleteResultXml(const std::vector<DeleteResultEntry>& entries, bool quiet);

std::string copyObjectResultXml(const std::string& etag, std::int64_t last_modified_ms);

// status: "Enabled", "Suspended" or "" (never configured: an empty configuration).
std::string versioningConfigurationXml(const std::string& status);

struct ListedVersion {
  std::string key;
  std::string version_id;
  bool is_latest = false;
  bool delete_marker = false;
  std::int64_t last_modified_ms = 0;
  std::string etag;  // hex, without quotes
  std::int64_t size = 0;
};

struct ListVersionsResponse {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::string version_id_marker;
  std::string next_key_marker;
  std::string next_version_id_marker;
  int max_keys = 1000;
  bool truncated = false;
  bool url_encoding = false;
  std::string owner_id;
  std::string owner_name;
  std::vector<ListedVersion> versions;  // versions and delete markers, in listing order
  std::vector<std::string> common_prefixes;
};
std::string listVersionsXml(const ListVersionsResponse& r);

}  // namespace dcloud::gateway
