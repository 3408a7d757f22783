#pragma once
// Errors as values at module boundaries. One small code set, mapped to HTTP in one place
// (common/http_errors.h). A Result must be looked at: it is [[nodiscard]].

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace dcloud {

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kConflict,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kPermissionDenied,
  kUnauthenticated,
  kInternal,
  kPaymentRequired,
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // A machine-readable refinement of the code, e.g. "too-low" or "insufficient-funds".
  std::string reason = {};
  // Extra detail for the client, e.g. the acceptable payment for "too-low" (a decimal string).
  std::string hint = {};

  std::string toString() const { return std::string(errorCodeName(code)) + ": " + message; }
};

inline Error invalidArgument(std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(m)};
}
inline Error notFound(std::string m) {
  return {ErrorCode::kNotFound, std::move(m)};
}
inline Error alreadyExists(std::string m) {
  return {ErrorCode::kAlreadyExists, std::move(m)};
}
inline Error failedPrecondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Error conflict(std::string m) {
  return {ErrorCode::kConflict, std::move(m)};
}
inline Error resourceExhausted(std::string m) {
  return {ErrorCode::kResourceExhausted, std::move(m)};
}
inline Error unavailable(std::string m) {
  return {ErrorCode::kUnavailable, std::move(m)};
}
inline Error deadlineExceeded(std::string m) {
  return {ErrorCode::kDeadlineExceeded, std::move(m)};
}
inline Error permissionDenied(std::string m) {
  return {ErrorCode::kPermissionDenied, std::move(m)};
}
inline Error unauthenticated(std::string m) {
  return {ErrorCode::kUnauthenticated, std::move(m)};
}
inline Error internalError(std::string m) {
  return {ErrorCode::kInternal, std::move(m)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;
inline Status okStatus() {
  return {};
}

}  // namespace dcloud

// Propagate an error from an expression returning Result/Status.
#define DCLOUD_TRY(expr)                                             \
  do {                                                               \
    auto dcloud_try_result_ = (expr);                                \
    if (!dcloud_try_result_.ok()) return dcloud_try_result_.error(); \
  } while (0)
