// Object-level S3 operations. Bodies stream through fixed buffers in both directions; an upload
// becomes visible only when its metadata commits, after every check on the bytes passed.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/DateTime.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>

#include "common/crypto.h"
#include "storage-gateway/body_receiver.h"
#include "storage-gateway/checksums.h"
#include "storage-gateway/config_ops.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kBufferBytes = 256 * 1024;
constexpr const char* kMetaPrefix = "x-amz-meta-";
constexpr const char* kDefaultContentType = "binary/octet-stream";

void setObjectHeaders(S3Exchange& ex, const ObjectRecord& o) {
  ex.setHeader("ETag", "\"" + o.etag + "\"");
  ex.setHeader("Last-Modified", httpDate(o.last_modified_ms));
  ex.setHeader("Accept-Ranges", "bytes");
  for (const auto& [name, value] : o.user_metadata) ex.setHeader(kMetaPrefix + name, value);
}

void setChecksumHeaders(S3Exchange& ex, const std::string& algorithm, const std::string& value) {
  if (algorithm.empty()) return;
  std::optional<ChecksumAlgorithm> a = checksumFromName(algorithm);
  if (!a) return;
  ex.setHeader(checksumHeader(*a), value);
  ex.setHeader("x-amz-checksum-type", "FULL_OBJECT");
}

struct ByteRange {
  std::int64_t first = 0;
  std::int64_t last = 0;  // inclusive
};

// A single "bytes=a-b" / "bytes=a-" / "bytes=-n" range. nullopt: serve the whole object (no or
// unsupported Range, as S3 ignores multi-range requests). InvalidRange when unsatisfiable.
Result<std::optional<ByteRange>> parseRange(const std::string& header, std::int64_t size) {
  using Out = std::optional<ByteRange>;
  if (header.compare(0, 6, "bytes=") != 0 || header.find(',') != std::string::npos) return Out{};
  const std::string spec = header.substr(6);
  const std::size_t dash = spec.find('-');
  if (dash == std::string::npos) return Out{};
  auto number = [](const std::string& s) -> std::optional<std::int64_t> {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  };
  std::optional<std::int64_t> a = number(spec.substr(0, dash));
  std::optional<std::int64_t> b = number(spec.substr(dash + 1));
  const Error unsatisfiable = s3Error("InvalidRange", "The requested range is not satisfiable");
  ByteRange r;
  if (!a && b) {  // suffix
    if (*b == 0) return unsatisfiable;
    r.first = std::max<std::int64_t>(0, size - *b);
    r.last = size - 1;
  } else if (a) {
    if (*a >= size) return unsatisfiable;
    r.first = *a;
    r.last = b ? std::min(*b, size - 1) : size - 1;
    if (b && *b < *a) return Out{};
  } else {
    return Out{};
  }
  if (size == 0) return unsatisfiable;
  return Out{r};
}

// Writes body bytes. Poco's response stream pushes them through a 4 KiB buffer (one send() per
// 4 KiB); once the headers are out, whole buffers go straight to the socket instead, which is
// the same bytes on the wire in a fraction of the system calls.
bool sendBody(S3Exchange& ex, std::ostream& out, const char* data, std::size_t n) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&ex.httpRequest());
  if (impl == nullptr) {
    out.write(data, static_cast<std::streamsize>(n));
    return static_cast<bool>(out);
  }
  try {
    out.flush();
    Poco::Net::StreamSocket& socket = impl->socket();
    std::size_t sent = 0;
    while (sent < n) {
      const int k = socket.sendBytes(data + sent, static_cast<int>(n - sent));
      if (k <= 0) return false;
      sent += static_cast<std::size_t>(k);
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

Error preconditionFailed() {
  return s3Error("PreconditionFailed",
                 "At least one of the pre-conditions you specified did not hold");
}

// The etags an If-Match / If-None-Match header lists ("*" stays "*"), without quotes or W/.
std::vector<std::string> etagList(const std::string& header) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= header.size()) {
    std::size_t comma = header.find(',', pos);
    if (comma == std::string::npos) comma = header.size();
    std::string item = header.substr(pos, comma - pos);
    const std::size_t a = item.find_first_not_of(" \t");
    const std::size_t b = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    if (item.compare(0, 2, "W/") == 0) item = item.substr(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

bool etagMatches(const std::string& header, const std::string& etag) {
  for (const std::string& e : etagList(header)) {
    if (e == "*" || e == etag) return true;
  }
  return false;
}

// Seconds since the epoch of an HTTP date; nullopt if unparseable (S3 then ignores the header).
std::optional<std::int64_t> httpDateSeconds(const std::string& text) {
  Poco::DateTime dt;
  int tzd = 0;
  if (!Poco::DateTimeParser::tryParse(text, dt, tzd)) return std::nullopt;
  return dt.timestamp().epochTime() - tzd;
}

}  // namespace

Result<int> evaluateConditions(const S3Request& req, const ObjectRecord& object) {
  // RFC 7232 section 6, as S3 applies it: If-Match decides over If-Unmodified-Since, and
  // If-None-Match over If-Modified-Since.
  const std::int64_t modified = object.last_modified_ms / 1000;
  if (req.hasHeader("if-match")) {
    if (!etagMatches(req.header("if-match"), object.etag)) return preconditionFailed();
  } else if (req.hasHeader("if-unmodified-since")) {
    std::optional<std::int64_t> since = httpDateSeconds(req.header("if-unmodified-since"));
    if (since && modified > *since) return preconditionFailed();
  }
  if (req.hasHeader("if-none-match")) {
    if (etagMatches(req.header("if-none-match"), object.etag)) return 304;
  } else if (req.hasHeader("if-modified-since")) {
    std::optional<std::int64_t> since = httpDateSeconds(req.header("if-modified-since"));
    if (since && modified <= *since) return 304;
  }
  return 200;
}

Result<PutCondition> putCondition(const S3Request& req) {
  PutCondition condition;
  if (req.hasHeader("if-none-match")) {
    if (req.header("if-none-match") != "*") {
      return s3Error("NotImplemented",
                     "A header you provided implies functionality that is not implemented: "
                     "If-None-Match on a write only takes *.");
    }
    condition.if_none_match_any = true;
  }
  if (req.hasHeader("if-match")) {
    std::vector<std::string> etags = etagList(req.header("if-match"));
    if (etags.size() != 1 || etags[0] == "*") {
      return s3Error("NotImplemented",
                     "A header you provided implies functionality that is not implemented: "
                     "If-Match on a write takes one ETag.");
    }
    condition.if_match = etags[0];
  }
  return condition;
}

std::string newVersionId(S3Deps& deps) {
  return deps.random.hex(16);
}

void removeUnreferenced(S3Deps& deps, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    Status removed = deps.objects.remove(id);
    if (!removed.ok()) deps.log.warn("cannot remove unreferenced data: " + removed.error().message);
  }
}

Result<PutOutcome> commitObject(S3Deps& deps, ObjectRecord& record, const std::string& data_id,
                                const PutCondition& condition) {
  record.data_id = data_id;
  record.last_modified_ms = deps.clock.nowMillis();
  record.version_id = newVersionId(deps);
  Result<PutOutcome> outcome = deps.metadata.putObject(record, condition);
  if (!outcome.ok()) {
    removeUnreferenced(deps, {record.data_id});
    return outcome.error();
  }
  removeUnreferenced(deps, outcome->unreferenced);
  return outcome;
}

Result<DeleteOutcome> deleteOne(S3Deps& deps, const std::string& bucket, const std::string& key,
                                const std::optional<std::string>& version_id,
                                bool bypass_governance) {
  Result<DeleteOutcome> outcome = deps.metadata.deleteObject(
      bucket, key, version_id, newVersionId(deps), deps.clock.nowMillis(), bypass_governance);
  if (outcome.ok()) removeUnreferenced(deps, outcome->unreferenced);
  return outcome;
}

Status putObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  if (req.hasHeader("x-amz-copy-source")) return copyObject(deps, ex, req, auth);
  ex.record().operation = "PutObject";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kPutObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<std::map<std::string, std::string>> meta = userMetadata(req);
  if (!meta.ok()) return meta.error();
  Result<PutCondition> condition = putCondition(req);
  if (!condition.ok()) return condition.error();
  Result<BodyPlan> plan = planBody(deps.config, ex, req, auth);
  if (!plan.ok()) return plan.error();
  Result<std::optional<VersionAttributes>> attributes =
      newVersionAttributes(deps, req, req.bucket, plan->md5_hex || plan->checksum);
  if (!attributes.ok()) return attributes.error();
  // A write that is bound to fail is refused before its body is read; the check that counts is
  // the one at the commit, under the key's lock.
  if (condition->if_none_match_any || condition->if_match) {
    Result<ObjectRecord> current = deps.metadata.getObject(req.bucket, req.key);
    if (!current.ok() && current.error().code != ErrorCode::kNotFound) return current.error();
    if (condition->if_none_match_any && current.ok()) return preconditionFailed();
    if (condition->if_match && !current.ok()) return current.error();
    if (condition->if_match && current->etag != *condition->if_match) {
      return preconditionFailed();
    }
  }

  Result<std::unique_ptr<ObjectWriter>> writer = deps.objects.create(req.bucket);
  if (!writer.ok()) return writer.error();
  // Until finish(), destroying the writer removes the partial data: every early return below
  // leaves nothing behind.
  Result<ReceivedBody> received = receiveBody(ex, *plan, auth, **writer);
  if (!received.ok()) return received.error();
  DCLOUD_TRY((*writer)->finish());

  ObjectRecord record;
  record.bucket = req.bucket;
  record.key = req.key;
  record.size = plan->object_bytes;
  record.etag = received->md5_hex;
  record.checksum_algorithm = received->checksum_algorithm;
  record.checksum_value = received->checksum_value;
  record.content_type =
      req.hasHeader("content-type") ? req.header("content-type") : kDefaultContentType;
  record.user_metadata = std::move(*meta);
  record.attributes = std::move(*attributes);
  Result<PutOutcome> outcome = commitObject(deps, record, (*writer)->id(), *condition);
  if (!outcome.ok()) return outcome.error();
  if (bucket->versioning != Versioning::kUnversioned) {
    ex.setHeader("x-amz-version-id", outcome->version_id);
  }
  ex.setHeader("ETag", "\"" + record.etag + "\"");
  setChecksumHeaders(ex, record.checksum_algorithm, record.checksum_value);
  ex.sendEmpty(200);
  return okStatus();
}

Status getObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  const bool head = req.method == "HEAD";
  ex.record().operation = head ? "HeadObject" : "GetObject";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kGetObject, req.key);
  if (!bucket.ok()) return bucket.error();
  // The data of a concurrently replaced object may vanish between the metadata read and the
  // open; the second look sees the new version.
  const std::optional<std::string> version_id = req.queryValue("versionId");
  std::optional<ObjectRecord> object;
  std::unique_ptr<ObjectReader> reader;
  for (int attempt = 0; attempt < 3 && !reader; ++attempt) {
    Result<ObjectRecord> found =
        version_id ? deps.metadata.getObjectVersion(req.bucket, req.key, *version_id)
                   : deps.metadata.getObject(req.bucket, req.key);
    if (!found.ok()) return found.error();
    if (found->delete_marker) {
      // S3: a delete marker named by its version id cannot be read.
      ex.setHeader("x-amz-delete-marker", "true");
      ex.setHeader("x-amz-version-id", found->version_id);
      ex.setHeader("Last-Modified", httpDate(found->last_modified_ms));
      return s3Error("MethodNotAllowed",
                     "The specified method is not allowed against this resource.");
    }
    Result<std::unique_ptr<ObjectReader>> opened = deps.objects.open(found->data_id);
    if (opened.ok()) {
      object = std::move(*found);
      reader = std::move(*opened);
    } else if (opened.error().code != ErrorCode::kNotFound) {
      return opened.error();
    }
  }
  if (!reader) return internalError("object data is missing for " + req.bucket + "/" + req.key);

  Result<int> precondition = evaluateConditions(req, *object);
  if (!precondition.ok()) return precondition.error();
  if (*precondition == 304) {
    ex.setHeader("ETag", "\"" + object->etag + "\"");
    ex.setHeader("Last-Modified", httpDate(object->last_modified_ms));
    ex.sendEmpty(304);
    return okStatus();
  }
  const std::int64_t size = reader->size();
  Result<std::optional<ByteRange>> range =
      head ? Result<std::optional<ByteRange>>(std::optional<ByteRange>{})
           : parseRange(req.header("range"), size);
  if (!range.ok()) {
    ex.setHeader("Content-Range", "bytes */" + std::to_string(size));
    return range.error();
  }
  setObjectHeaders(ex, *object);
  DCLOUD_TRY(setVersionAttributeHeaders(deps, ex, *object));
  if (bucket->versioning != Versioning::kUnversioned || version_id) {
    ex.setHeader("x-amz-version-id", object->version_id);
  }
  if (!range->has_value() && req.header("x-amz-checksum-mode") == "ENABLED") {
    setChecksumHeaders(ex, object->checksum_algorithm, object->checksum_value);
  }
  std::int64_t first = 0;
  std::int64_t length = size;
  int status = 200;
  if (range->has_value()) {
    first = (*range)->first;
    length = (*range)->last - first + 1;
    status = 206;
    ex.setHeader("Content-Range", "bytes " + std::to_string(first) + "-" +
                                      std::to_string((*range)->last) + "/" + std::to_string(size));
  }
  // The store checks the first bytes here, so that data failing its integrity check is an error
  // response rather than a cut-off body.
  if (!head) DCLOUD_TRY(reader->seek(first));
  std::ostream& out = ex.beginBody(status, length, object->content_type);
  if (head) return okStatus();
  // Sized to the body (a 4 KiB GET needs no 256 KiB buffer) and not zeroed: it is written first.
  const auto buf_bytes = static_cast<std::size_t>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(length, kBufferBytes)));
  const auto buf = std::make_unique_for_overwrite<char[]>(buf_bytes);
  std::int64_t left = length;
  while (left > 0) {
    Result<std::size_t> got =
        reader->read(buf.get(), static_cast<std::size_t>(std::min<std::int64_t>(
                                    left, static_cast<std::int64_t>(buf_bytes))));
    if (!got.ok() || *got == 0) {
      // Headers are gone already: all we can do is cut the connection short.
      deps.log.error("short read of object data for " + req.bucket + "/" + req.key);
      break;
    }
    if (!sendBody(ex, out, buf.get(), *got)) break;  // the client went away
    left -= static_cast<std::int64_t>(*got);
    ex.record().bytes_out += static_cast<std::int64_t>(*got);
  }
  return okStatus();
}

Status deleteObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth) {
  ex.record().operation = "DeleteObject";
  DCLOUD_TRY(validateObjectKey(req.key));
  Result<BucketRecord> bucket =
      authorizeBucket(deps, auth, req.bucket, Operation::kDeleteObject, req.key);
  if (!bucket.ok()) return bucket.error();
  Result<DeleteOutcome> outcome = deleteOne(deps, req.bucket, req.key, req.queryValue("versionId"),
                                            bypassGovernance(req, auth));
  if (!outcome.ok()) return outcome.error();
  if (!outcome->version_id.empty()) ex.setHeader("x-amz-version-id", outcome->version_id);
  if (outcome->delete_marker) ex.setHeader("x-amz-delete-marker", "true");
  ex.sendEmpty(204);
  return okStatus();
}

}  // namespace dcloud::gateway
