#pragma once
// Internal to the gateway: one S3 request/response pair with the helpers the operations share,
// and the per-request record that becomes the log line and the metrics.

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "storage-gateway/authenticator.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/metadata_store.h"
#include "storage-gateway/object_store.h"
#include "storage-gateway/s3_request.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace dcloud::gateway {

struct RequestRecord {
  std::string request_id;
  std::string operation = "Unknown";
  std::string principal = "-";
  int status = 0;
  std::int64_t bytes_in = 0;
  std::int64_t bytes_out = 0;
};

class S3Exchange {
 public:
  S3Exchange(Poco::Net::HTTPServerRequest& http_request,
             Poco::Net::HTTPServerResponse& http_response, RequestRecord& record)
      : http_request_(http_request), http_response_(http_response), record_(record) {}

  Poco::Net::HTTPServerRequest& httpRequest() { return http_request_; }
  Poco::Net::HTTPServerResponse& httpResponse() { return http_response_; }
  RequestRecord& record() { return record_; }
  std::istream& body();
  // Reads up to n body bytes (0 at the end or on error). A body with a Content-Length, when
  // body() was not used, is read straight from the connection in large reads (Poco's body
  // stream reads in 4 KiB pieces); anything else goes through body().
  std::size_t readBody(char* out, std::size_t n);
  // Declared Content-Length; -1 when absent.
  std::int64_t contentLength() const;

  // Standard headers (request id, server) are added by every send.
  void sendXml(int status, const std::string& xml);
  void sendEmpty(int status);
  // S3 error XML (no body for HEAD). resource: the request path.
  void sendError(const Error& error, const std::string& resource);
  // Starts a streamed body; write to the returned stream (nothing for HEAD).
  std::ostream& beginBody(int status, std::int64_t length, const std::string& content_type);
  bool sent() const;
  void setHeader(const std::string& name, const std::string& value);
  // The body was fully read by the operation.
  void markBodyConsumed() { body_consumed_ = true; }
  bool bodyConsumed() const { return body_consumed_; }

 private:
  void prepare(int status);
  // Reads a small unread body so the connection can be kept; otherwise closes it after the reply.
  void drainOrClose();

  Poco::Net::HTTPServerRequest& http_request_;
  Poco::Net::HTTPServerResponse& http_response_;
  RequestRecord& record_;
  bool body_consumed_ = false;
  bool stream_used_ = false;
  std::int64_t direct_bytes_ = 0;  // body bytes readBody() took past the body stream
};

// What the operations need.
struct S3Deps {
  MetadataStore& metadata;
  ObjectStore& objects;
  const Clock& clock;
  Random& random;
  const GatewayConfig& config;
  const Logger& log;
};

// Operations (bucket_ops.cpp, object_ops.cpp). Each sends a response or returns an error for the
// caller to send; none throws on bad input.
Status listBuckets(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status createBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status deleteBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status headBucket(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status getBucketLocation(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                         const AuthContext& auth);
Status listObjects(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status putObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status getObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status deleteObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
// Multipart uploads (multipart_ops.cpp).
Status createMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                             const AuthContext& auth);
Status uploadPart(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status completeMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                               const AuthContext& auth);
Status abortMultipartUpload(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth);
// ListParts and ListMultipartUploads (multipart_list_ops.cpp).
Status listParts(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status listMultipartUploads(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                            const AuthContext& auth);

// Copy and batch delete (copy_delete_ops.cpp).
Status copyObject(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
Status deleteObjects(S3Deps& deps, S3Exchange& ex, const S3Request& req, const AuthContext& auth);
// Versioning (versioning_ops.cpp).
Status putBucketVersioning(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth);
Status getBucketVersioning(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                           const AuthContext& auth);
Status listObjectVersions(S3Deps& deps, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth);

// A fresh version id (32 characters, unique with overwhelming probability).
std::string newVersionId(S3Deps& deps);
// Listing query parameters: a prefix, delimiter or marker must be valid UTF-8 without NUL and of
// sane length; encoding-type must be "url"; max-keys a non-negative integer (capped at 1000).
Status checkListParam(const std::string& name, const std::string& value);
Status parseListingOptions(const S3Request& req, bool& url_encoding, int& max_keys);
// Removes data ids that are no longer referenced, logging (not failing) on error.
void removeUnreferenced(S3Deps& deps, const std::vector<std::string>& ids);
// Makes record (whose data is stored under data_id) the object: stamps the time and a new version
// id, commits the metadata under condition, and removes data no longer referenced — the new data
// itself when the commit fails, the replaced data when it succeeds.
Result<PutOutcome> commitObject(S3Deps& deps, ObjectRecord& record, const std::string& data_id,
                                const PutCondition& condition);
// Deletes one object or version (DeleteObject and each key of DeleteObjects); the authorization
// was checked by the caller. bypass_governance: see MetadataStore::deleteObject.
Result<DeleteOutcome> deleteOne(S3Deps& deps, const std::string& bucket, const std::string& key,
                                const std::optional<std::string>& version_id,
                                bool bypass_governance);

// GET/HEAD preconditions (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
// against object: 200 (serve it), 304 (not modified) or PreconditionFailed.
Result<int> evaluateConditions(const S3Request& req, const ObjectRecord& object);
// PUT preconditions: If-None-Match: * and If-Match: <etag>. NotImplemented for other forms.
Result<PutCondition> putCondition(const S3Request& req);

// Reads a whole small request body (at most limit bytes). InvalidRequest if larger,
// IncompleteBody if shorter than Content-Length.
Result<std::string> readSmallBody(S3Exchange& ex, std::size_t limit);

// Scope check, then the bucket must exist and belong to the caller. AccessDenied / NoSuchBucket.
Result<BucketRecord> authorizeBucket(S3Deps& deps, const AuthContext& auth,
                                     const std::string& bucket, Operation op,
                                     const std::string& key);

}  // namespace dcloud::gateway
