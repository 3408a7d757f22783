#include "storage-gateway/version_listing.h"

#include "storage-gateway/object_listing.h"

namespace dcloud::gateway {

Result<VersionListPage> listVersionsPage(const VersionListRequest& request,
                                         const FetchVersions& fetch, int batch_size) {
  VersionListPage page;
  VersionCursor cursor = request.cursor;
  int entries = 0;
  for (;;) {
    Result<std::vector<ObjectRecord>> rows = fetch(cursor, batch_size);
    if (!rows.ok()) return rows.error();
    bool jumped = false;
    for (ObjectRecord& row : *rows) {
      std::optional<std::string> common;
      if (!request.delimiter.empty()) {
        const std::size_t at = row.key.find(request.delimiter, request.prefix.size());
        if (at != std::string::npos) common = row.key.substr(0, at + request.delimiter.size());
      }
      // Something more is there: the page is full only if it cannot take it.
      if (entries >= request.max_keys) {
        page.truncated = true;
        return page;
      }
      ++entries;
      if (common) {
        page.common_prefixes.push_back(*common);
        page.next_key_marker = *common;
        page.next_version_id_marker.clear();
        // Everything under the prefix is rolled up: continue after it.
        const std::string next = prefixSuccessor(*common);
        if (next.empty()) return page;
        cursor = {next, true, std::nullopt};
        jumped = true;
        break;
      }
      page.next_key_marker = row.key;
      page.next_version_id_marker = row.version_id;
      cursor = {row.key, false, row.seq};
      page.versions.push_back(std::move(row));
    }
    if (!jumped && static_cast<int>(rows->size()) < batch_size) return page;
  }
}

}  // namespace dcloud::gateway
