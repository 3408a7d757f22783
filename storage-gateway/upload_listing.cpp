#include "storage-gateway/upload_listing.h"

#include "storage-gateway/object_listing.h"

namespace dcloud::gateway {
namespace {

// Greater than every upload id (they are hex): a cursor on a key skips all its uploads.
const std::string kAfterAllUploads = "\x7f";

}  // namespace

Result<UploadListPage> listUploadsPage(const UploadListRequest& request, const FetchUploads& fetch,
                                       int batch_size) {
  UploadListPage page;
  std::string key = request.key_marker;
  std::string upload = request.upload_id_marker;
  if (!key.empty() && upload.empty()) {
    upload = kAfterAllUploads;
    // A marker that is a common prefix continues after everything under it.
    if (!request.delimiter.empty() && key.size() > request.prefix.size() &&
        key.compare(0, request.prefix.size(), request.prefix) == 0 &&
        key.size() >= request.delimiter.size() &&
        key.compare(key.size() - request.delimiter.size(), std::string::npos, request.delimiter) ==
            0) {
      key = prefixSuccessor(key);
      upload.clear();
      if (key.empty()) return page;
    }
  }
  int count = 0;
  for (;;) {
    Result<std::vector<MultipartUploadRecord>> batch = fetch(key, upload, batch_size);
    if (!batch.ok()) return batch.error();
    if (batch->empty()) return page;
    bool refetch = false;
    for (MultipartUploadRecord& u : *batch) {
      if (count == request.max_uploads) {
        page.truncated = true;
        return page;
      }
      if (!request.delimiter.empty()) {
        const std::size_t at = u.key.find(request.delimiter, request.prefix.size());
        if (at != std::string::npos) {
          const std::string common = u.key.substr(0, at + request.delimiter.size());
          page.common_prefixes.push_back(common);
          ++count;
          page.next_key_marker = common;
          page.next_upload_id_marker.clear();
          key = prefixSuccessor(common);
          upload.clear();
          if (key.empty()) return page;
          refetch = true;
          break;
        }
      }
      key = u.key;
      upload = u.upload_id;
      page.next_key_marker = u.key;
      page.next_upload_id_marker = u.upload_id;
      page.uploads.push_back(std::move(u));
      ++count;
    }
    if (!refetch && static_cast<int>(batch->size()) < batch_size) return page;
  }
}

}  // namespace dcloud::gateway
