#pragma once
// XML responses of UploadPartCopy, ListParts and ListMultipartUploads.

#include <cstdint>
#include <string>
#include <vector>

#include "storage-gateway/metadata_store.h"
#include "storage-gateway/upload_listing.h"

namespace dcloud::gateway {

std::string copyPartResultXml(const std::string& etag, std::int64_t last_modified_ms);

struct ListPartsResponse {
  std::string bucket;
  std::string key;
  std::string upload_id;
  std::string owner;  // principal of the upload
  int part_number_marker = 0;
  int next_part_number_marker = 0;
  int max_parts = 1000;
  bool truncated = false;
  std::vector<PartRecord> parts;
};
std::string listPartsXml(const ListPartsResponse& r);

struct ListUploadsResponse {
  std::string bucket;
  UploadListRequest request;
  bool url_encoding = false;
  UploadListPage page;
};
std::string listMultipartUploadsXml(const ListUploadsResponse& r);

}  // namespace dcloud::gateway
