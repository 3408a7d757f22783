#pragma once
// One page of ListObjectVersions: versions and delete markers under a prefix, by key and newest
// first, with keys containing the delimiter after the prefix rolled up into common prefixes; each
// version and each common prefix counts against max_keys. Pure: rows come from a fetch function.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

struct VersionListRequest {
  std::string prefix;
  std::string delimiter;
  VersionCursor cursor;
  int max_keys = 1000;
};

struct VersionListPage {
  std::vector<ObjectRecord> versions;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker;         // when truncated
  std::string next_version_id_marker;  // when truncated after a version (not a prefix)
};

// (cursor, limit) -> up to limit rows after cursor under the request's prefix, in listing order.
using FetchVersions = std::function<Result<std::vector<ObjectRecord>>(const VersionCursor&, int)>;

Result<VersionListPage> listVersionsPage(const VersionListRequest& request,
                                         const FetchVersions& fetch, int batch_size = 1000);

}  // namespace dcloud::gateway
