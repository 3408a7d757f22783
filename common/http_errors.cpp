#include "common/http_errors.h"

#include <Poco/JSON/Object.h>

#include "common/json.h"

namespace dcloud {

HttpErrorMapping httpErrorFor(const Error& error) {
  if (!error.reason.empty()) {
    if (error.reason == "invalid-signature") return {401, "invalid-signature"};
    if (error.reason == "refresh-nonce") return {409, "refresh-nonce"};
    if (error.reason == "too-low" || error.reason == "insufficient-funds") {
      return {402, "payment-declined"};
    }
  }
  switch (error.code) {
    case ErrorCode::kInvalidArgument: return {400, "bad-request"};
    case ErrorCode::kUnauthenticated: return {401, "invalid-signature"};
    case ErrorCode::kPermissionDenied: return {403, "forbidden"};
    case ErrorCode::kNotFound: return {404, "not-found"};
    case ErrorCode::kAlreadyExists: return {409, "conflict"};
    case ErrorCode::kConflict: return {409, "conflict"};
    case ErrorCode::kFailedPrecondition: return {409, "conflict"};
    case ErrorCode::kPaymentRequired: return {402, "payment-declined"};
    case ErrorCode::kResourceExhausted: return {429, "too-many-requests"};
    case ErrorCode::kDeadlineExceeded: return {504, "timeout"};
    case ErrorCode::kUnavailable: return {503, "unavailable"};
    case ErrorCode::kInternal: return {500, "server-error"};
  }
  return {500, "server-error"};
}

std::string errorJson(const Error& error) {
  HttpErrorMapping m = httpErrorFor(error);
  Poco::JSON::Object::Ptr obj = new Poco::JSON::Object;
  obj->set("status", std::string(m.status));
  obj->set("code", m.http_status);
  obj->set("message", error.message);
  if (!error.reason.empty()) obj->set("reason", error.reason);
  if (error.reason == "too-low" && !error.hint.empty())
    obj->set("acceptable_payment", error.hint);
  else if (!error.hint.empty())
    obj->set("hint", error.hint);
  return toJson(obj);
}

Error errorFromHttp(int http_status, const std::string& body) {
  Error e;
  switch (http_status) {
    case 400: e.code = ErrorCode::kInvalidArgument; break;
    case 401: e.code = ErrorCode::kUnauthenticated; break;
    case 402: e.code = ErrorCode::kPaymentRequired; break;
    case 403: e.code = ErrorCode::kPermissionDenied; break;
    case 404: e.code = ErrorCode::kNotFound; break;
    case 409: e.code = ErrorCode::kConflict; break;
    case 429: e.code = ErrorCode::kResourceExhausted; break;
    case 503: e.code = ErrorCode::kUnavailable; break;
    case 504: e.code = ErrorCode::kDeadlineExceeded; break;
    default: e.code = ErrorCode::kInternal; break;
  }
  e.message = "HTTP " + std::to_string(http_status);
  auto obj = parseJsonObject(body);
  if (obj.ok()) {
    auto message = getOptionalString(*obj, "message");
    if (message.ok() && message->has_value()) e.message = **message;
    auto reason = getOptionalString(*obj, "reason");
    if (reason.ok() && reason->has_value()) e.reason = **reason;
    auto status = getOptionalString(*obj, "status");
    if (e.reason.empty() && status.ok() && status->has_value() &&
        (**status == "refresh-nonce" || **status == "invalid-signature")) {
      e.reason = **status;
    }
    auto hint = getOptionalString(*obj, "acceptable_payment");
    if (hint.ok() && hint->has_value()) e.hint = **hint;
  } else if (!body.empty() && body.size() < 300) {
    e.message += ": " + body;
  }
  return e;
}

}  // namespace dcloud
