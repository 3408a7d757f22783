// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload
// and AbortMultipartUpload. Parts are stored like objects; completion makes one new data id that
// references the parts' chunks (no byte is copied) and commits the object and the removal of the
// upload in one transaction, so the object appears whole or not at all.

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "storage-gateway/body_receiver.h"
#include "storage-gateway/checksums.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/copy_source.h"
#include "storage-gateway/multipart_xml.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::int64_t kMinPartBytes = 5LL * 1024 * 1024;
constexpr std::int64_t kMaxMultipartObjectBytes = 5LL * 1024 * 1024 * 1024 * 1024;
constexpr std::size_t kMaxCompleteBodyBytes = 2 * 1024 * 1024;
constexpr std::int64_t kMaxPartBytes = 5LL * 1024 * 1024 * 1024;
constexpr const char* kDefaultContentType = "binary/octet-stream";

void removeAll(S3Deps& deps, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    Status st = deps.objects.remove(id);
    if (!st.ok()) deps.log.warn("cannot remove data " + id + ": " + st.error().message);
  }
}

// Checks key and access, then that uploadId names an upload of this caller for this key.
Result<MultipartUploadRecord> authorizeUpload(S3Deps& deps, const S3Request& req,
                                              const AuthContext& auth) {
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  const std::string upload_id = req.queryValue("uploadId").value_or("");
  Result<MultipartUploadRecord> upload = deps.metadata.getUpload(upload_id);
  if (!upload.ok()) return upload.error();
  if (upload->bucket != req.bucket || upload->key != req.key ||
      upload->principal != auth.principal) {
    return s3Error("NoSuchUpload", "The specified upload does not exist.");
  }
  return upload;
}

// The x-amz-copy-source-range of an UploadPartCopy: "bytes=first-last" within the source.
Result<std::pair<std::int64_t, std::int64_t>> copyRange(const S3Request& req, std::int64_t size) {
  if (!req.hasHeader("x-amz-copy-source-range")) return std::make_pair(std::int64_t{0}, size);
  const std::string text = req.header("x-amz-copy-source-range");
  const Error invalid = s3Error("InvalidArgument",
                                "The x-amz-copy-source-range value must be of the form "
                                "bytes=first-last where first and last are the zero-based offsets "
                                "of the first and last bytes to copy");
  if (text.compare(0, 6, "bytes=") != 0) return invalid;
  const std::size_t dash = text.find('-', 6);
  if (dash == std::string::npos) return invalid;
  auto number = [](const std::string& t) -> std::optional<std::int64_t> {
    if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(t);
  };
  std::optional<std::int64_t> first = number(text.substr(6, dash - 6));
  std::optional<std::int64_t> last = number(text.substr(dash + 1));
  if (!first || !last || *last < *first) return invalid;
  if (*last >= size) {
    return s3Error("InvalidRange", "Range specified is not valid for source object of size: " +
                                       std::to_string(size));
  }
  return std::make_pair(*first, *last - *first + 1);
}

// UploadPartCopy: the part's bytes are a range of an existing object (sharing its chunks).
Status uploadPartCopy(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth,
                      const MultipartUploadRecord& upload, int number) {
  ex.record().operation = "UploadPartCopy";
  Result<CopySource> source = parseCopySource(req.header("x-amz-copy-source"));
  if (!source.ok()) return source.error();
  Result<BucketRecord> source_bucket =
      authorizeBucket(deps, auth, source->bucket, Operation::kGetObject, source->key);
  if (!source_bucket.ok()) return source_bucket.error();
  Result<ObjectRecord> found = findCopySource(deps, req, *source);
  if (!found.ok()) return found.error();
  Result<std::pair<std::int64_t, std::int64_t>> range = copyRange(req, found->size);
  if (!range.ok()) return range.error();
  if (range->second > kMaxPartBytes) {
    return s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
  }
  Result<CopiedData> copied = copyObjectData(deps, *found, req.bucket, range->first, range->second);
  if (!copied.ok()) return copied.error();
  PartRecord part{upload.upload_id, number,          range->second,
                  copied->md5_hex,  copied->data_id, deps.clock.nowMillis()};
  Result<std::optional<std::string>> previous = deps.metadata.putPart(part);
  if (!previous.ok()) {
    removeAll(deps, {part.data_id});
    return previous.error();
  }
  if (previous->has_value()) removeAll(deps, {**previous});
  if (source_bucket->versioning != Versioning::kUnversioned || source->version_id) {
    ex.setHeader("x-amz-copy-source-version-id", found->version_id);
  }
  ex.sendXml(200, copyPartResultXml(part.etag, part.uploaded_ms));
  return okStatus();
}

}  // namespace

Status createMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                             const AuthContext& auth) {
  ex.record().operation = "CreateMultipartUpload";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::map<std::string, std::string>> meta = userMetadata(req);
  if (!meta.ok()) return meta.error();
  MultipartUploadRecord upload;
  upload.upload_id = deps.random.hex(16);
  upload.bucket = req.bucket;
  upload.key = req.key;
  upload.principal = auth.principal;
  upload.content_type =
      req.hasHeader("content-type") ? req.header("content-type") : kDefaultContentType;
  upload.user_metadata = std::move(*meta);
  upload.created_ms = deps.clock.nowMillis();
  // Tags, ACL and Object Lock headers bind the object the upload becomes. Checked now, so a bad
  // header fails the upload before any part is sent. A create carries no body to check.
  Result<std::optional<VersionAttributes>> attributes =
      newVersionAttributes(deps, req, req.bucket, true);
  if (!attributes.ok()) return attributes.error();
  if (*attributes) {
    upload.attributes = **attributes;
    if (!req.hasHeader("x-amz-object-lock-mode")) {
      // The bucket's default retention counts from the object's creation: applied at completion.
      upload.attributes.lock_mode.clear();
      upload.attributes.retain_until_ms = 0;
    }
  }
  DCLOUD_TRY(deps.metadata.createUpload(upload));
  ex.sendXml(200, initiateMultipartUploadXml(req.bucket, req.key, upload.upload_id));
  return okStatus();
}

Status uploadPart(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "UploadPart";
  const std::string number_text = req.queryValue("partNumber").value_or("");
  char* end = nullptr;
  const long number = std::strtol(number_text.c_str(), &end, 10);
  if (number_text.empty() || *end != '\0' || number < 1 || number > 10000) {
    return s3Error("InvalidArgument", "Part number must be an integer between 1 and 10000.");
  }
  Result<MultipartUploadRecord> upload = authorizeUpload(deps, req, auth);
  if (!upload.ok()) return upload.error();
  if (req.hasHeader("x-amz-copy-source")) {
    return uploadPartCopy(deps, ex, req, auth, *upload, static_cast<int>(number));
  }
  Result<BodyPlan> plan = planBody(deps.config, ex, req, auth);
  if (!plan.ok()) return plan.error();
  Result<std::unique_ptr<ObjectWriter>> writer = deps.objects.create(req.bucket);
  if (!writer.ok()) return writer.error();
  Result<ReceivedBody> received = receiveBody(ex, *plan, auth, **writer);
  if (!received.ok()) return received.error();
  DCLOUD_TRY((*writer)->finish());
  PartRecord part{upload->upload_id, static_cast<int>(number), plan->object_bytes,
                  received->md5_hex, (*writer)->id(),          deps.clock.nowMillis()};
  Result<std::optional<std::string>> previous = deps.metadata.putPart(part);
  if (!previous.ok()) {
    removeAll(deps, {part.data_id});
    return previous.error();
  }
  if (previous->has_value()) removeAll(deps, {**previous});
  ex.setHeader("ETag", "\"" + part.etag + "\"");
  // A part's checksum is verified but not kept: composite checksums of multipart objects are
  // not supported yet.
  if (!received->checksum_algorithm.empty()) {
    std::optional<ChecksumAlgorithm> a = checksumFromName(received->checksum_algorithm);
    if (a) ex.setHeader(checksumHeader(*a), received->checksum_value);
  }
  ex.sendEmpty(200);
  return okStatus();
}

Status completeMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                               const AuthContext& auth) {
  ex.record().operation = "CompleteMultipartUpload";
  Result<MultipartUploadRecord> upload = authorizeUpload(deps, req, auth);
  if (!upload.ok()) return upload.error();
  Result<std::string> body = readSmallBody(ex, kMaxCompleteBodyBytes);
  if (!body.ok()) return body.error();
  Result<std::vector<CompletedPart>> wanted = parseCompleteMultipartUpload(*body);
  if (!wanted.ok()) return wanted.error();
  Result<std::vector<PartRecord>> stored = deps.metadata.listParts(upload->upload_id);
  if (!stored.ok()) return stored.error();
  std::map<int, const PartRecord*> by_number;
  for (const PartRecord& p : *stored) by_number[p.part_number] = &p;

  std::vector<PartRecord> parts;
  std::string md5s;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < wanted->size(); ++i) {
    const CompletedPart& w = (*wanted)[i];
    if (i > 0 && w.part_number <= (*wanted)[i - 1].part_number) {
      return s3Error("InvalidPartOrder", "The list of parts was not in ascending order.");
    }
    auto it = by_number.find(w.part_number);
    if (it == by_number.end() || it->second->etag != w.etag) {
      return s3Error("InvalidPart",
                     "One or more of the specified parts could not be found or "
                     "its entity tag did not match.");
    }
    const PartRecord& p = *it->second;
    if (i + 1 < wanted->size() && p.size < kMinPartBytes) {
      return s3Error("EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed "
                     "size (5 MiB for every part but the last).");
    }
    Result<std::string> raw = fromHex(p.etag);
    if (!raw.ok()) return internalError("stored part etag is not hex");
    md5s += *raw;
    total += p.size;
    parts.push_back(p);
  }
  if (total > kMaxMultipartObjectBytes) {
    return s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
  }
  std::vector<DataSlice> slices;
  slices.reserve(parts.size());
  for (const PartRecord& p : parts) slices.push_back({p.data_id, 0, p.size});
  Result<std::string> data_id = deps.objects.compose(req.bucket, slices);
  if (!data_id.ok()) return data_id.error();

  Md5 md5;
  md5.update(md5s);
  ObjectRecord record;
  record.bucket = req.bucket;
  record.key = req.key;
  record.size = total;
  record.etag = md5.finishHex() + "-" + std::to_string(parts.size());
  record.content_type = upload->content_type;
  record.user_metadata = upload->user_metadata;
  record.data_id = *data_id;
  record.last_modified_ms = deps.clock.nowMillis();
  record.version_id = newVersionId(deps);
  // What the create asked for; without a lock mode of its own, the bucket's default retention
  // binds multipart uploads too.
  VersionAttributes attributes = upload->attributes;
  if (attributes.lock_mode.empty()) {
    Result<std::optional<VersionAttributes>> retention = defaultVersionAttributes(deps, req.bucket);
    if (!retention.ok()) return retention.error();
    if (*retention) {
      attributes.lock_mode = (*retention)->lock_mode;
      attributes.retain_until_ms = (*retention)->retain_until_ms;
    }
  }
  if (!attributes.empty()) record.attributes = attributes;
  Result<PutOutcome> outcome = deps.metadata.completeUpload(upload->upload_id, record);
  if (!outcome.ok()) {
    removeAll(deps, {record.data_id});
    return outcome.error();
  }
  removeAll(deps, outcome->unreferenced);
  if (outcome->version_id != "null") ex.setHeader("x-amz-version-id", outcome->version_id);
  ex.sendXml(200, completeMultipartUploadXml(req.raw_path, req.bucket, req.key, record.etag));
  return okStatus();
}

Status abortMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth) {
  ex.record().operation = "AbortMultipartUpload";
  Result<MultipartUploadRecord> upload = authorizeUpload(deps, req, auth);
  if (!upload.ok()) return upload.error();
  Result<std::vector<std::string>> ids = deps.metadata.abortUpload(upload->upload_id);
  if (!ids.ok()) return ids.error();
  removeAll(deps, *ids);
  ex.sendEmpty(204);
  return okStatus();
}

}  // namespace dcloud::gateway
