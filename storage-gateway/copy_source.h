#pragma once
// Internal to the gateway: what CopyObject and UploadPartCopy share — the x-amz-copy-source
// header, its conditions, and making new data from a byte range of an existing object.

#include <cstdint>
#include <optional>
#include <string>

#include "storage-gateway/s3_exchange.h"

namespace dcloud::gateway {

struct CopySource {
  std::string bucket;
  std::string key;
  std::optional<std::string> version_id;
};

// x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded. InvalidArgument otherwise.
Result<CopySource> parseCopySource(const std::string& header);
// The x-amz-copy-source-if-* headers, judged like GET's conditions on the source; a copy has no
// 304, every failed condition is PreconditionFailed.
Status checkCopySourceConditions(const S3Request& req, const ObjectRecord& source);
// The source version (the current one unless a version id is named), refusing delete markers and
// failed x-amz-copy-source-if-* conditions.
Result<ObjectRecord> findCopySource(S3Deps& deps, const S3Request& req, const CopySource& source);

struct CopiedData {
  std::string data_id;  // finished; the caller commits or removes it
  std::string md5_hex;  // of the copied bytes
};
// New data in bucket with the bytes [first, first + length) of source (an object, not a delete
// marker), sharing its chunks where the store can. The MD5 is the source's ETag when the whole of
// a single-part object is copied, otherwise computed by reading the range. NoSuchKey if the
// source's data vanished meanwhile.
Result<CopiedData> copyObjectData(S3Deps& deps, const ObjectRecord& source,
                                  const std::string& bucket, std::int64_t first,
                                  std::int64_t length);

}  // namespace dcloud::gateway
