// Service- and bucket-level S3 operations.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "storage-gateway/config_ops.h"
#include "storage-gateway/object_listing.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxBucketConfigBytes = 64 * 1024;

// The text of the first <name>...</name> element, or "".
std::string elementText(const std::string& xml, const std::string& name) {
  const std::string open = "<" + name + ">";
  const std::size_t start = xml.find(open);
  if (start == std::string::npos) return "";
  const std::size_t end = xml.find("</" + name + ">", start);
  if (end == std::string::npos) return "";
  return xml.substr(start + open.size(), end - start - open.size());
}

}  // namespace

Status checkListParam(const std::string& name, const std::string& value) {
  if (value.size() > 4 * kMaxKeyBytes || !isValidUtf8(value) ||
      value.find('\0') != std::string::npos) {
    return s3Error("InvalidArgument", "Invalid value for " + name + ".");
  }
  return okStatus();
}

Status parseListingOptions(const S3Request& req, bool& url_encoding, int& max_keys) {
  if (std::optional<std::string> enc = req.queryValue("encoding-type")) {
    if (*enc != "url") return s3Error("InvalidArgument", "Invalid Encoding Method specified");
    url_encoding = true;
  }
  if (std::optional<std::string> mk = req.queryValue("max-keys")) {
    char* end = nullptr;
    const long long v = std::strtoll(mk->c_str(), &end, 10);
    if (mk->empty() || *end != '\0' || v < 0) {
      return s3Error("InvalidArgument", "max-keys must be a non-negative integer.");
    }
    max_keys = static_cast<int>(std::min<long long>(v, 1000));
  }
  return okStatus();
}

Result<std::string> readSmallBody(S3Exchange& ex, std::size_t limit) {
  std::string body;
  const std::int64_t declared = ex.contentLength();
  if (declared > static_cast<std::int64_t>(limit)) {
    return s3Error("InvalidRequest", "The request body is too large for this operation.");
  }
  char buf[8192];
  std::istream& in = ex.body();
  while (body.size() <= limit) {
    in.read(buf, sizeof buf);
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    body.append(buf, static_cast<std::size_t>(got));
  }
  if (body.size() > limit) {
    return s3Error("InvalidRequest", "The request body is too large for this operation.");
  }
  if (declared >= 0 && static_cast<std::int64_t>(body.size()) != declared) {
    return s3Error("IncompleteBody",
                   "You did not provide the number of bytes specified by the "
                   "Content-Length HTTP header.");
  }
  ex.markBodyConsumed();
  ex.record().bytes_in += static_cast<std::int64_t>(body.size());
  return body;
}

Result<BucketRecord> authorizeBucket(S3Deps& deps, const AuthContext& auth,
                                     const std::string& bucket, Operation op,
                                     const std::string& key) {
  if (!scopeAllows(auth.scope, op, bucket, key)) {
    return s3Error("AccessDenied", std::string("Access Denied: this key may not perform ") +
                                       operationName(op) + " here.");
  }
  if (!isValidBucketName(bucket)) {
    // A name that cannot exist is simply absent (S3 answers NoSuchBucket for reads too).
    return s3Error("NoSuchBucket", "The specified bucket does not exist");
  }
  Result<BucketRecord> record = deps.metadata.getBucket(bucket);
  if (!record.ok()) return record.error();
  if (record->owner != auth.principal) return s3Error("AccessDenied", "Access Denied");
  return record;
}

Status listBuckets(S3Deps& deps, S3Exchange& ex, const S3Request&, const AuthContext& auth) {
  ex.record().operation = "ListBuckets";
  if (!scopeAllows(auth.scope, Operation::kListBuckets, "", "")) {
    return s3Error("AccessDenied", "Access Denied: scoped keys cannot list buckets.");
  }
  Result<std::vector<BucketRecord>> buckets = deps.metadata.listBuckets(auth.principal);
  if (!buckets.ok()) return buckets.error();
  std::vector<BucketEntry> entries;
  for (const BucketRecord& b : *buckets) entries.push_back({b.name, b.created_ms});
  ex.sendXml(200, listBucketsXml(auth.principal, auth.display_name, entries));
  return okStatus();
}

Status createBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "CreateBucket";
  if (!scopeAllows(auth.scope, Operation::kCreateBucket, req.bucket, "")) {
    return s3Error("AccessDenied", "Access Denied: scoped keys cannot create buckets.");
  }
  DCLOUD_TRY(validateBucketName(req.bucket));
  Result<std::string> body = readSmallBody(ex, kMaxBucketConfigBytes);
  if (!body.ok()) return body.error();
  const std::string location = elementText(*body, "LocationConstraint");
  if (!location.empty() && location != deps.config.region) {
    return s3Error("InvalidLocationConstraint",
                   "The specified location-constraint is not valid for this gateway (region " +
                       deps.config.region + ").");
  }
  bool versioned = false;
  Result<std::map<std::string, std::string>> documents = createBucketDocuments(req, versioned);
  if (!documents.ok()) return documents.error();
  Result<CreateBucketOutcome> outcome =
      deps.metadata.createBucketWith({req.bucket, auth.principal, deps.clock.nowMillis(),
                                      versioned ? Versioning::kEnabled : Versioning::kUnversioned},
                                     *documents);
  if (!outcome.ok()) return outcome.error();
  if (!outcome->created) {
    if (outcome->bucket.owner == auth.principal) {
      return s3Error("BucketAlreadyOwnedByYou",
                     "Your previous request to create the named "
                     "bucket succeeded and you already own it.");
    }
    return s3Error("BucketAlreadyExists", "The requested bucket name is not available.");
  }
  ex.setHeader("Location", "/" + req.bucket);
  ex.sendEmpty(200);
  return okStatus();
}

Status deleteBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "DeleteBucket";
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kDeleteBucket, "");
  if (!bucket.ok()) return bucket.error();
  DCLOUD_TRY(deps.metadata.deleteBucket(req.bucket));
  ex.sendEmpty(204);
  return okStatus();
}

Status headBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "HeadBucket";
  Result<BucketRecord> bucket = authorizeBucket(deps, auth, req.bucket, Operation::kHeadBucket, "");
  if (!bucket.ok()) return bucket.error();
  ex.setHeader("x-amz-bucket-region", deps.config.region);
  ex.sendEmpty(200);
  return okStatus();
}

Status getBucketLocation(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                         const AuthContext& auth) {
  ex.record().operation = "GetBucketLocation";
  Result<BucketRecord> bucket = authorizeBucket(deps, auth, req.bucket, Operation::kHeadBucket, "");
  if (!bucket.ok()) return bucket.error();
  ex.sendXml(200, createBucketLocationXml(deps.config.region));
  return okStatus();
}

Status listObjects(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  const bool v2 = req.queryValue("list-type") == std::optional<std::string>("2");
  ex.record().operation = v2 ? "ListObjectsV2" : "ListObjects";
  ListObjectsResponse out;
  out.v2 = v2;
  out.bucket = req.bucket;
  out.prefix = req.queryValue("prefix").value_or("");
  out.delimiter = req.queryValue("delimiter").value_or("");
  DCLOUD_TRY(checkListParam("prefix", out.prefix));
  DCLOUD_TRY(checkListParam("delimiter", out.delimiter));
  DCLOUD_TRY(parseListingOptions(req, out.url_encoding, out.max_keys));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kListObjects, out.prefix);
  if (!bucket.ok()) return bucket.error();

  ListRequest list{out.prefix, out.delimiter, {}, out.max_keys};
  if (v2) {
    out.start_after = req.queryValue("start-after").value_or("");
    DCLOUD_TRY(checkListParam("start-after", out.start_after));
    list.cursor = {out.start_after, false};
    if (std::optional<std::string> token = req.queryValue("continuation-token")) {
      Result<ListCursor> cursor = decodeContinuationToken(*token);
      if (!cursor.ok()) return cursor.error();
      list.cursor = *cursor;
      out.continuation_token = *token;
    }
  } else {
    out.start_after = req.queryValue("marker").value_or("");
    DCLOUD_TRY(checkListParam("marker", out.start_after));
    list.cursor = {out.start_after, false};
    // A marker that is a common prefix we returned skips everything under it.
    if (!out.delimiter.empty() && out.start_after.size() >= out.delimiter.size() &&
        out.start_after.compare(out.start_after.size() - out.delimiter.size(), out.delimiter.size(),
                                out.delimiter) == 0) {
      list.cursor = {prefixSuccessor(out.start_after), true};
    }
  }
  const std::string bucket_name = req.bucket;
  const std::string prefix = out.prefix;
  Result<ListPage> page = listPage(list, [&](const std::string& from, bool inclusive, int limit) {
    return deps.metadata.listObjects(bucket_name, prefix, from, inclusive, limit);
  });
  if (!page.ok()) return page.error();
  out.truncated = page->truncated;
  if (page->truncated) {
    out.next_token = v2 ? encodeContinuationToken(page->next) : page->last_entry;
  }
  for (ObjectRecord& o : page->contents) {
    out.contents.push_back({std::move(o.key), o.size, std::move(o.etag), o.last_modified_ms});
  }
  out.common_prefixes = std::move(page->common_prefixes);
  ex.sendXml(200, listObjectsXml(out));
  return okStatus();
}

}  // namespace dcloud::gateway
