// ListParts and ListMultipartUploads.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "storage-gateway/multipart_xml.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/upload_listing.h"

namespace dcloud::gateway {
namespace {

// A non-negative integer query parameter, or fallback when absent. InvalidArgument otherwise.
Result<long long> intParam(const S3Request& req, const std::string& name, long long fallback) {
  std::optional<std::string> text = req.queryValue(name);
  if (!text) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || text->size() > 18 || *end != '\0' || v < 0) {
    return s3Error("InvalidArgument", name + " must be a non-negative integer.");
  }
  return v;
}

}  // namespace

Status listParts(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "ListParts";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<MultipartUploadRecord> upload =
      deps.metadata.getUpload(req.queryValue("uploadId").value_or(""));
  if (!upload.ok()) return upload.error();
  if (upload->bucket != req.bucket || upload->key != req.key ||
      upload->principal != auth.principal) {
    return s3Error("NoSuchUpload", "The specified upload does not exist.");
  }
  Result<long long> max_parts = intParam(req, "max-parts", 1000);
  if (!max_parts.ok()) return max_parts.error();
  Result<long long> marker = intParam(req, "part-number-marker", 0);
  if (!marker.ok()) return marker.error();
  // At most 10,000 parts: the whole list is small enough to page in memory.
  Result<std::vector<PartRecord>> parts = deps.metadata.listParts(upload->upload_id);
  if (!parts.ok()) return parts.error();
  ListPartsResponse out;
  out.bucket = req.bucket;
  out.key = req.key;
  out.upload_id = upload->upload_id;
  out.owner = upload->principal;
  out.part_number_marker = static_cast<int>(std::min<long long>(*marker, 10000));
  out.max_parts = static_cast<int>(std::min<long long>(*max_parts, 1000));
  for (PartRecord& p : *parts) {
    if (p.part_number <= out.part_number_marker) continue;
    if (static_cast<int>(out.parts.size()) == out.max_parts) {
      out.truncated = true;
      break;
    }
    if (p.uploaded_ms == 0) p.uploaded_ms = upload->created_ms;  // stored before sql/0015
    out.parts.push_back(std::move(p));
  }
  if (!out.parts.empty()) out.next_part_number_marker = out.parts.back().part_number;
  ex.sendXml(200, listPartsXml(out));
  return okStatus();
}

Status listMultipartUploads(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth) {
  ex.record().operation = "ListMultipartUploads";
  ListUploadsResponse out;
  out.bucket = req.bucket;
  UploadListRequest& list = out.request;
  list.prefix = req.queryValue("prefix").value_or("");
  list.delimiter = req.queryValue("delimiter").value_or("");
  list.key_marker = req.queryValue("key-marker").value_or("");
  list.upload_id_marker = req.queryValue("upload-id-marker").value_or("");
  DCLOUD_TRY(checkListParam("prefix", list.prefix));
  DCLOUD_TRY(checkListParam("delimiter", list.delimiter));
  DCLOUD_TRY(checkListParam("key-marker", list.key_marker));
  DCLOUD_TRY(checkListParam("upload-id-marker", list.upload_id_marker));
  if (list.key_marker.empty()) list.upload_id_marker.clear();  // S3 ignores it alone
  if (std::optional<std::string> enc = req.queryValue("encoding-type")) {
    if (*enc != "url") return s3Error("InvalidArgument", "Invalid Encoding Method specified");
    out.url_encoding = true;
  }
  Result<long long> max_uploads = intParam(req, "max-uploads", 1000);
  if (!max_uploads.ok()) return max_uploads.error();
  list.max_uploads = static_cast<int>(std::min<long long>(*max_uploads, 1000));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kListObjects, list.prefix);
  if (!bucket.ok()) return bucket.error();
  Result<UploadListPage> page =
      listUploadsPage(list, [&](const std::string& key, const std::string& upload_id, int limit) {
        return deps.metadata.listUploads(req.bucket, list.prefix, key, upload_id, limit);
      });
  if (!page.ok()) return page.error();
  out.page = std::move(*page);
  ex.sendXml(200, listMultipartUploadsXml(out));
  return okStatus();
}

}  // namespace dcloud::gateway
