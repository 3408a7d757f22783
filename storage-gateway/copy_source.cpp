// CopyObject's and UploadPartCopy's shared parts (copy_source.h).
#include "storage-gateway/copy_source.h"

#include <algorithm>
#include <vector>

#include "common/crypto.h"
#include "common/sigv4.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kCopyBufferBytes = 256 * 1024;

Error sourceGone() {
  return s3Error("NoSuchKey", "The specified key does not exist.");
}

}  // namespace

// x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded.
Result<CopySource> parseCopySource(const std::string& header) {
  const Error invalid = s3Error("InvalidArgument",
                                "Copy Source must mention the source bucket "
                                "and key: sourcebucket/sourcekey");
  std::string text = header;
  CopySource source;
  const std::size_t q = text.find('?');
  if (q != std::string::npos) {
    const std::string query = text.substr(q + 1);
    text = text.substr(0, q);
    if (query.rfind("versionId=", 0) != 0) return invalid;
    Result<std::string> version = uriDecode(query.substr(10));
    if (!version.ok() || version->empty()) return invalid;
    source.version_id = *version;
  }
  Result<std::string> decoded = uriDecode(text);
  if (!decoded.ok()) return invalid;
  std::string path = *decoded;
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  const std::size_t slash = path.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) return invalid;
  source.bucket = path.substr(0, slash);
  source.key = path.substr(slash + 1);
  return source;
}

// The x-amz-copy-source-if-* headers, judged like GET's conditions on the source; a copy has no
// 304, every failed condition is PreconditionFailed.
Result<ObjectRecord> findCopySource(S3Deps& deps, const S3Request& req, const CopySource& source) {
  Result<ObjectRecord> found =
      source.version_id
          ? deps.metadata.getObjectVersion(source.bucket, source.key, *source.version_id)
          : deps.metadata.getObject(source.bucket, source.key);
  if (!found.ok()) return found.error();
  if (found->delete_marker) {
    return s3Error("InvalidRequest",
                   "The source of a copy request may not specifically refer to a delete marker "
                   "by version id.");
  }
  DCLOUD_TRY(checkCopySourceConditions(req, *found));
  return found;
}

Status checkCopySourceConditions(const S3Request& req, const ObjectRecord& source) {
  S3Request probe;
  for (const char* name :
       {"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"}) {
    const std::string header = std::string("x-amz-copy-source-") + name;
    if (req.hasHeader(header)) probe.headers[name] = req.header(header);
  }
  if (probe.headers.empty()) return okStatus();
  Result<int> verdict = evaluateConditions(probe, source);
  if (!verdict.ok()) return verdict.error();
  if (*verdict != 200) {
    return s3Error("PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  }
  return okStatus();
}

Result<CopiedData> copyObjectData(S3Deps& deps, const ObjectRecord& source,
                                  const std::string& bucket, std::int64_t first,
                                  std::int64_t length) {
  CopiedData out;
  const bool whole = first == 0 && length == source.size;
  if (whole && source.etag.find('-') == std::string::npos) {
    out.md5_hex = source.etag;
  } else {
    // Reading is needed for the MD5 only; the new data still shares the chunks.
    Result<std::unique_ptr<ObjectReader>> reader = deps.objects.open(source.data_id);
    if (!reader.ok()) {
      if (reader.error().code == ErrorCode::kNotFound) return sourceGone();
      return reader.error();
    }
    DCLOUD_TRY((*reader)->seek(first));
    Md5 md5;
    std::vector<char> buf(kCopyBufferBytes);
    std::int64_t left = length;
    while (left > 0) {
      Result<std::size_t> got = (*reader)->read(
          buf.data(), static_cast<std::size_t>(std::min<std::int64_t>(left, buf.size())));
      if (!got.ok()) return got.error();
      if (*got == 0) return internalError("copy source data has the wrong size");
      md5.update(buf.data(), *got);
      left -= static_cast<std::int64_t>(*got);
    }
    out.md5_hex = md5.finishHex();
  }
  Result<std::string> id = deps.objects.compose(bucket, {{source.data_id, first, length}});
  if (!id.ok()) {
    // Replaced or deleted between the metadata read and now.
    if (id.error().code == ErrorCode::kNotFound) return sourceGone();
    return id.error();
  }
  out.data_id = *id;
  return out;
}

}  // namespace dcloud::gateway
