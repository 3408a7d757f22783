#pragma once
// The one place where error codes become HTTP statuses and the JSON error body of DESIGN.md:
//   {"status": "bad-request", "code": 400, "message": "...", ["reason": ..., "acceptable_payment":
//   ...]}

#include <string>

#include "common/result.h"

namespace dcloud {

struct HttpErrorMapping {
  int http_status;
  const char* status;  // "bad-request", "invalid-signature", ...
};

HttpErrorMapping httpErrorFor(const Error& error);
std::string errorJson(const Error& error);
// Reverse mapping for clients: a JSON error body (or a bare status) back to an Error.
Error errorFromHttp(int http_status, const std::string& body);

}  // namespace dcloud
