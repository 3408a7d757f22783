// Bucket versioning: Put/GetBucketVersioning and ListObjectVersions. What versioning does to
// writes and deletes lives in the metadata store's commit (MetadataStore::putObject,
// deleteObject), so every path that writes an object follows it.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "storage-gateway/config_ops.h"
#include "storage-gateway/object_listing.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml_bodies.h"
#include "storage-gateway/version_listing.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxVersioningBodyBytes = 64 * 1024;

}  // namespace

Status putBucketVersioning(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth) {
  ex.record().operation = "PutBucketVersioning";
  // Configuring a bucket is a bucket-level write: scoped keys may not (as for DeleteBucket).
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kDeleteBucket, "");
  if (!bucket.ok()) return bucket.error();
  Result<std::string> body = readSmallBody(ex, kMaxVersioningBodyBytes);
  if (!body.ok()) return body.error();
  Result<std::string> status = parseVersioningStatus(*body);
  if (!status.ok()) return status.error();
  DCLOUD_TRY(checkVersioningChange(deps, req.bucket, *status == "Suspended"));
  DCLOUD_TRY(deps.metadata.setBucketVersioning(
      req.bucket, *status == "Enabled" ? Versioning::kEnabled : Versioning::kSuspended));
  ex.sendEmpty(200);
  return okStatus();
}

Status getBucketVersioning(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth) {
  ex.record().operation = "GetBucketVersioning";
  Result<BucketRecord> bucket = authorizeBucket(deps, auth, req.bucket, Operation::kHeadBucket, "");
  if (!bucket.ok()) return bucket.error();
  const char* status = bucket->versioning == Versioning::kEnabled     ? "Enabled"
                       : bucket->versioning == Versioning::kSuspended ? "Suspended"
                                                                      : "";
  ex.sendXml(200, versioningConfigurationXml(status));
  return okStatus();
}

Status listObjectVersions(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth) {
  ex.record().operation = "ListObjectVersions";
  ListVersionsResponse out;
  out.bucket = req.bucket;
  out.prefix = req.queryValue("prefix").value_or("");
  out.delimiter = req.queryValue("delimiter").value_or("");
  out.key_marker = req.queryValue("key-marker").value_or("");
  out.version_id_marker = req.queryValue("version-id-marker").value_or("");
  DCLOUD_TRY(checkListParam("prefix", out.prefix));
  DCLOUD_TRY(checkListParam("delimiter", out.delimiter));
  DCLOUD_TRY(checkListParam("key-marker", out.key_marker));
  DCLOUD_TRY(checkListParam("version-id-marker", out.version_id_marker));
  DCLOUD_TRY(parseListingOptions(req, out.url_encoding, out.max_keys));
  if (!out.version_id_marker.empty() && out.key_marker.empty()) {
    return s3Error("InvalidArgument",
                   "A version-id marker cannot be specified without a key marker.");
  }
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kListObjects, out.prefix);
  if (!bucket.ok()) return bucket.error();
  out.owner_id = auth.principal;
  out.owner_name = auth.display_name;

  VersionListRequest list{
      out.prefix, out.delimiter, {out.key_marker, false, std::nullopt}, out.max_keys};
  if (!out.version_id_marker.empty()) {
    Result<ObjectRecord> marker =
        deps.metadata.getObjectVersion(req.bucket, out.key_marker, out.version_id_marker);
    if (!marker.ok() && marker.error().code != ErrorCode::kNotFound) return marker.error();
    if (!marker.ok()) {
      return s3Error("InvalidArgument", "Invalid version id specified");
    }
    list.cursor.after_seq = marker->seq;
  } else if (!out.delimiter.empty() && out.key_marker.size() >= out.delimiter.size() &&
             out.key_marker.compare(out.key_marker.size() - out.delimiter.size(),
                                    out.delimiter.size(), out.delimiter) == 0) {
    // A key marker that is a common prefix we returned skips everything under it.
    list.cursor = {prefixSuccessor(out.key_marker), true, std::nullopt};
  }
  const std::string bucket_name = req.bucket;
  const std::string prefix = out.prefix;
  Result<VersionListPage> page =
      listVersionsPage(list, [&](const VersionCursor& cursor, int limit) {
        return deps.metadata.listObjectVersions(bucket_name, prefix, cursor, limit);
      });
  if (!page.ok()) return page.error();
  out.truncated = page->truncated;
  out.next_key_marker = page->next_key_marker;
  out.next_version_id_marker = page->next_version_id_marker;
  for (const ObjectRecord& o : page->versions) {
    out.versions.push_back(
        {o.key, o.version_id, o.is_latest, o.delete_marker, o.last_modified_ms, o.etag, o.size});
  }
  out.common_prefixes = std::move(page->common_prefixes);
  ex.sendXml(200, listVersionsXml(out));
  return okStatus();
}

}  // namespace dcloud::gateway
