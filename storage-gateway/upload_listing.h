#pragma once
// One page of ListMultipartUploads: uploads under a prefix by key and then upload id, keys with
// the delimiter after the prefix rolled up into common prefixes, continuing after key-marker /
// upload-id-marker. Pure: uploads come from a fetch function.

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

struct UploadListRequest {
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::string upload_id_marker;  // only with key_marker
  int max_uploads = 1000;        // 0..1000
};

struct UploadListPage {
  std::vector<MultipartUploadRecord> uploads;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

// (key, upload_id, limit) -> up to limit uploads under the prefix whose (key, upload_id) is
// greater, in that order (upload ids compared bytewise).
using FetchUploads = std::function<Result<std::vector<MultipartUploadRecord>>(
    const std::string&, const std::string&, int)>;

Result<UploadListPage> listUploadsPage(const UploadListRequest& request, const FetchUploads& fetch,
                                       int batch_size = 1000);

}  // namespace dcloud::gateway
