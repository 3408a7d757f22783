#pragma once
// One page of a bucket listing (ListObjects / ListObjectsV2): objects under a prefix in key order,
// with keys that contain the delimiter after the prefix rolled up into common prefixes. Pure: the
// objects come from a fetch function, so the logic is tested without a database.

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

struct ListCursor {
  std::string from;  // list keys > from (>= from when inclusive)
  bool inclusive = false;
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;
  ListCursor cursor;
  int max_keys = 1000;  // 0..1000
};

struct ListPage {
  std::vector<ObjectRecord> contents;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  ListCursor next;         // where the next page starts, when truncated
  std::string last_entry;  // the last key or common prefix returned (v1 NextMarker)
};

// (from, inclusive, limit) -> up to limit objects under the request's prefix, in key order.
using FetchObjects =
    std::function<Result<std::vector<ObjectRecord>>(const std::string&, bool, int)>;

Result<ListPage> listPage(const ListRequest& request, const FetchObjects& fetch,
                          int batch_size = 1000);

// The smallest string greater than every string that starts with prefix (in UTF-8 byte order);
// empty if there is none.
std::string prefixSuccessor(const std::string& prefix);

// Opaque continuation tokens for ListObjectsV2. InvalidArgument on a token we did not issue.
std::string encodeContinuationToken(const ListCursor& cursor);
Result<ListCursor> decodeContinuationToken(const std::string& token);

}  // namespace dcloud::gateway
