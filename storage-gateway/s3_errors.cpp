#include "storage-gateway/s3_errors.h"

#include <map>

namespace dcloud::gateway {
namespace {

struct Entry {
  int status;
  ErrorCode code;
};

const std::map<std::string, Entry>& table() {
  static const std::map<std::string, Entry> kTable = {
      {"AccessDenied", {403, ErrorCode::kPermissionDenied}},
      {"AccessForbidden", {403, ErrorCode::kPermissionDenied}},
      {"BadRequest", {400, ErrorCode::kInvalidArgument}},
      {"InvalidBucketState", {409, ErrorCode::kFailedPrecondition}},
      {"InvalidTag", {400, ErrorCode::kInvalidArgument}},
      {"NoSuchCORSConfiguration", {404, ErrorCode::kNotFound}},
      {"NoSuchLifecycleConfiguration", {404, ErrorCode::kNotFound}},
      {"NoSuchObjectLockConfiguration", {404, ErrorCode::kNotFound}},
      {"NoSuchTagSet", {404, ErrorCode::kNotFound}},
      {"ObjectLockConfigurationNotFoundError", {404, ErrorCode::kNotFound}},
      {"AuthorizationHeaderMalformed", {400, ErrorCode::kInvalidArgument}},
      {"AuthorizationQueryParametersError", {400, ErrorCode::kInvalidArgument}},
      {"BadDigest", {400, ErrorCode::kInvalidArgument}},
      {"BucketAlreadyExists", {409, ErrorCode::kAlreadyExists}},
      {"BucketAlreadyOwnedByYou", {409, ErrorCode::kAlreadyExists}},
      {"BucketNotEmpty", {409, ErrorCode::kFailedPrecondition}},
      {"EntityTooLarge", {400, ErrorCode::kInvalidArgument}},
      {"EntityTooSmall", {400, ErrorCode::kInvalidArgument}},
      {"IncompleteBody", {400, ErrorCode::kInvalidArgument}},
      {"InternalError", {500, ErrorCode::kInternal}},
      {"InvalidAccessKeyId", {403, ErrorCode::kUnauthenticated}},
      {"InvalidArgument", {400, ErrorCode::kInvalidArgument}},
      {"InvalidBucketName", {400, ErrorCode::kInvalidArgument}},
      {"InvalidDigest", {400, ErrorCode::kInvalidArgument}},
      {"InvalidLocationConstraint", {400, ErrorCode::kInvalidArgument}},
      {"InvalidPart", {400, ErrorCode::kInvalidArgument}},
      {"InvalidPartOrder", {400, ErrorCode::kInvalidArgument}},
      {"InvalidRange", {416, ErrorCode::kInvalidArgument}},
      {"InvalidRequest", {400, ErrorCode::kInvalidArgument}},
      {"InvalidURI", {400, ErrorCode::kInvalidArgument}},
      {"KeyTooLongError", {400, ErrorCode::kInvalidArgument}},
      {"MalformedXML", {400, ErrorCode::kInvalidArgument}},
      {"MetadataTooLarge", {400, ErrorCode::kInvalidArgument}},
      {"MethodNotAllowed", {405, ErrorCode::kInvalidArgument}},
      {"MissingContentLength", {411, ErrorCode::kInvalidArgument}},
      {"MissingSecurityHeader", {400, ErrorCode::kInvalidArgument}},
      {"NoSuchBucket", {404, ErrorCode::kNotFound}},
      {"NoSuchKey", {404, ErrorCode::kNotFound}},
      {"NoSuchUpload", {404, ErrorCode::kNotFound}},
      {"NoSuchVersion", {404, ErrorCode::kNotFound}},
      {"NotImplemented", {501, ErrorCode::kFailedPrecondition}},
      {"PreconditionFailed", {412, ErrorCode::kFailedPrecondition}},
      {"RequestTimeTooSkewed", {403, ErrorCode::kUnauthenticated}},
      {"ServiceUnavailable", {503, ErrorCode::kUnavailable}},
      {"SignatureDoesNotMatch", {403, ErrorCode::kUnauthenticated}},
      {"XAmzContentSHA256Mismatch", {400, ErrorCode::kInvalidArgument}},
  };
  return kTable;
}

}  // namespace

Error s3Error(const std::string& s3_code, std::string message) {
  auto it = table().find(s3_code);
  Error e{it == table().end() ? ErrorCode::kInternal : it->second.code, std::move(message)};
  e.reason = s3_code;
  return e;
}

S3ErrorInfo s3ErrorInfo(const Error& error) {
  auto it = table().find(error.reason);
  if (it != table().end()) return {it->second.status, error.reason};
  switch (error.code) {
    case ErrorCode::kInvalidArgument: return {400, "InvalidArgument"};
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated: return {403, "AccessDenied"};
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kResourceExhausted: return {503, "ServiceUnavailable"};
    default: return {500, "InternalError"};
  }
}

}  // namespace dcloud::gateway
