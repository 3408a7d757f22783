#pragma once
// Who sent an S3 request, and how its body is to be checked. Two schemes:
//  - AWS SigV4 (Authorization: AWS4-HMAC-SHA256 ...) with access keys from AccessKeys;
//  - DCLOUD-ED25519 principals (common/signed_request.h), signed over method, raw path, raw query
//    and the x-amz-content-sha256 header, which must then be the body's hex sha256.

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/signed_request.h"
#include "common/sigv4.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/access_scope.h"
#include "storage-gateway/aws_chunked.h"
#include "storage-gateway/s3_request.h"

namespace dcloud::gateway {

constexpr std::int64_t kSigV4MaxSkewMillis = 15 * 60 * 1000;
constexpr const char* kStreamingSignedPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr const char* kStreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr const char* kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
// Presigned URLs live at most a week, as in S3.
constexpr std::int64_t kMaxPresignedSeconds = 7 * 24 * 3600;

enum class PayloadMode {
  kSha256,                    // the body must hash to payload_sha256
  kUnsigned,                  // UNSIGNED-PAYLOAD
  kStreamingSigned,           // aws-chunked with chained chunk signatures
  kStreamingSignedTrailer,    // the same, then trailers with a trailer signature
  kStreamingUnsignedTrailer,  // aws-chunked without signatures, then trailers
};

// Whether the body is aws-chunked framed.
bool isStreamingPayload(PayloadMode mode);

struct AuthContext {
  std::string principal;
  std::string display_name;
  std::string access_key;            // empty for DCLOUD-ED25519
  std::optional<AccessScope> scope;  // nullopt: full rights of the principal
  PayloadMode payload_mode = PayloadMode::kUnsigned;
  std::string payload_sha256;                 // lower-case hex, for kSha256
  std::optional<ChunkSigning> chunk_signing;  // for kStreamingSigned(Trailer)
};

class Authenticator {
 public:
  Authenticator(AccessKeys& keys, const RequestVerifier& verifier, const Clock& clock,
                std::string region)
      : keys_(keys), verifier_(verifier), clock_(clock), region_(std::move(region)) {}

  // S3 errors: AccessDenied (anonymous), AuthorizationHeaderMalformed, InvalidAccessKeyId,
  // SignatureDoesNotMatch, RequestTimeTooSkewed, InvalidArgument (bad x-amz-content-sha256),
  // NotImplemented (other streaming modes). Presigned URLs (query X-Amz-*) are checked like the
  // header form, with AccessDenied once X-Amz-Date + X-Amz-Expires has passed.
  Result<AuthContext> authenticate(const S3Request& req) const;

 private:
  Result<AuthContext> sigV4(const S3Request& req) const;
  Result<AuthContext> presigned(const S3Request& req) const;
  // Checks the signature of req over fields; the canonical query leaves out X-Amz-Signature.
  Result<AuthContext> verifySigV4(const S3Request& req, const SigV4AuthorizationFields& fields,
                                  const std::string& amz_date, const std::string& payload) const;
  Result<AuthContext> ed25519(const S3Request& req) const;

  AccessKeys& keys_;
  const RequestVerifier& verifier_;
  const Clock& clock_;
  std::string region_;
};

// "20261121T064451Z" -> Unix millis; nullopt if malformed.
std::optional<std::int64_t> parseAmzDate(const std::string& text);
bool isLowerHexSha256(const std::string& text);

}  // namespace dcloud::gateway
