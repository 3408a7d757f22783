#pragma once
// S3 error codes as dcloud Errors: the S3 code travels in Error::reason, so the gateway's layers
// keep returning plain Result values and one function (s3ErrorInfo) maps them to HTTP.

#include <string>

#include "common/result.h"

namespace dcloud::gateway {

struct S3ErrorInfo {
  int http_status = 500;
  std::string code;  // "NoSuchKey", ...
};

// An Error carrying the S3 code; the ErrorCode is derived from it (NoSuchKey -> kNotFound, ...).
Error s3Error(const std::string& s3_code, std::string message);
// The HTTP status and S3 code for any Error: its reason when it names an S3 code, otherwise a
// mapping of the generic code (kUnavailable -> ServiceUnavailable, kInternal -> InternalError...).
S3ErrorInfo s3ErrorInfo(const Error& error);

}  // namespace dcloud::gateway
