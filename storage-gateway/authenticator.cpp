#include "storage-gateway/authenticator.h"

#include <ctime>

#include "common/crypto.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

constexpr const char* kSigV4Scheme = "AWS4-HMAC-SHA256";

bool startsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

Error signatureMismatch() {
  return s3Error("SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.");
}

}  // namespace

std::optional<std::int64_t> parseAmzDate(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i != 8 && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(text.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(text.substr(6, 2));
  tm.tm_hour = std::stoi(text.substr(9, 2));
  tm.tm_min = std::stoi(text.substr(11, 2));
  tm.tm_sec = std::stoi(text.substr(13, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

bool isLowerHexSha256(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isStreamingPayload(PayloadMode mode) {
  return mode == PayloadMode::kStreamingSigned || mode == PayloadMode::kStreamingSignedTrailer ||
         mode == PayloadMode::kStreamingUnsignedTrailer;
}

Result<AuthContext> Authenticator::authenticate(const S3Request& req) const {
  const std::string auth = req.header("authorization");
  const bool query_auth = req.hasQuery("X-Amz-Signature") || req.hasQuery("X-Amz-Credential") ||
                          req.hasQuery("X-Amz-Algorithm");
  if (query_auth && !auth.empty()) {
    return s3Error("InvalidArgument",
                   "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                   "Signature query string parameter or the Authorization header should be "
                   "specified");
  }
  if (startsWith(auth, kSigV4Scheme)) return sigV4(req);
  if (startsWith(auth, kAuthScheme)) return ed25519(req);
  if (query_auth) return presigned(req);
  if (auth.empty()) return s3Error("AccessDenied", "Anonymous access is not allowed.");
  return s3Error("InvalidArgument", "Unsupported Authorization scheme.");
}

Result<AuthContext> Authenticator::sigV4(const S3Request& req) const {
  Result<SigV4AuthorizationFields> fields = parseSigV4Authorization(req.header("authorization"));
  if (!fields.ok()) {
    return s3Error("AuthorizationHeaderMalformed",
                   "The authorization header is malformed: " + fields.error().message);
  }
  if (fields->service != "s3") {
    return s3Error("AuthorizationHeaderMalformed", "The credential scope must name service s3.");
  }
  if (fields->region != region_) {
    return s3Error("AuthorizationHeaderMalformed",
                   "The authorization header is malformed; the "
                   "region '" +
                       fields->region + "' is wrong; expecting '" + region_ + "'");
  }
  const std::string amz_date = req.header("x-amz-date");
  std::optional<std::int64_t> when = parseAmzDate(amz_date);
  if (!when) return s3Error("AccessDenied", "AWS authentication requires a valid x-amz-date.");
  const std::int64_t skew = *when - clock_.nowMillis();
  if (skew > kSigV4MaxSkewMillis || skew < -kSigV4MaxSkewMillis) {
    return s3Error("RequestTimeTooSkewed",
                   "The difference between the request time and the current time is too large.");
  }
  const std::string payload = req.header("x-amz-content-sha256");
  if (payload.empty()) {
    return s3Error("InvalidRequest",
                   "Missing required header for this request: "
                   "x-amz-content-sha256");
  }
  return verifySigV4(req, *fields, amz_date, payload);
}

Result<AuthContext> Authenticator::presigned(const S3Request& req) const {
  const Error malformed_query =
      s3Error("AuthorizationQueryParametersError",
              "Query-string authentication version 4 requires the X-Amz-Algorithm, "
              "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
              "X-Amz-Expires parameters.");
  const std::optional<std::string> algorithm = req.queryValue("X-Amz-Algorithm");
  const std::optional<std::string> credential = req.queryValue("X-Amz-Credential");
  const std::optional<std::string> signature = req.queryValue("X-Amz-Signature");
  const std::optional<std::string> amz_date = req.queryValue("X-Amz-Date");
  const std::optional<std::string> signed_headers = req.queryValue("X-Amz-SignedHeaders");
  const std::optional<std::string> expires_text = req.queryValue("X-Amz-Expires");
  if (!algorithm || !credential || !signature || !amz_date || !signed_headers || !expires_text) {
    return malformed_query;
  }
  if (*algorithm != kSigV4Scheme) {
    return s3Error("AuthorizationQueryParametersError",
                   "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  // The query fields are the Authorization header's in another dress.
  Result<SigV4AuthorizationFields> fields =
      parseSigV4Authorization(std::string(kSigV4Scheme) + " Credential=" + *credential +
                              ", SignedHeaders=" + *signed_headers + ", Signature=" + *signature);
  if (!fields.ok()) return malformed_query;
  if (fields->service != "s3" || fields->region != region_) {
    return s3Error("AuthorizationQueryParametersError",
                   "Error parsing the X-Amz-Credential parameter; the region '" + fields->region +
                       "' is wrong; expecting '" + region_ + "'");
  }
  std::optional<std::int64_t> when = parseAmzDate(*amz_date);
  if (!when) return malformed_query;
  const std::string& e = *expires_text;
  if (e.empty() || e.size() > 7 || e.find_first_not_of("0123456789") != std::string::npos) {
    return s3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number");
  }
  const std::int64_t expires = std::stoll(e);
  if (expires > kMaxPresignedSeconds) {
    return s3Error("AuthorizationQueryParametersError",
                   "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  }
  const std::int64_t now = clock_.nowMillis();
  if (*when - now > kSigV4MaxSkewMillis) {
    return s3Error("AccessDenied", "Request is not valid yet");
  }
  if (now > *when + expires * 1000) return s3Error("AccessDenied", "Request has expired");
  // Presigned requests carry no body hash unless they signed one in the query.
  const std::string payload = req.hasHeader("x-amz-content-sha256")
                                  ? req.header("x-amz-content-sha256")
                                  : std::string(kUnsignedPayload);
  return verifySigV4(req, *fields, *amz_date, payload);
}

Result<AuthContext> Authenticator::verifySigV4(const S3Request& req,
                                               const SigV4AuthorizationFields& fields,
                                               const std::string& amz_date,
                                               const std::string& payload) const {
  if (amz_date.substr(0, 8) != fields.date) return signatureMismatch();
  bool signs_host = false;
  for (const std::string& h : fields.signed_headers) signs_host = signs_host || h == "host";
  if (!signs_host) {
    return s3Error("AuthorizationHeaderMalformed", "The host header must be signed.");
  }

  AuthContext ctx;
  if (payload == kUnsignedPayload) {
    ctx.payload_mode = PayloadMode::kUnsigned;
  } else if (payload == kStreamingSignedPayload) {
    ctx.payload_mode = PayloadMode::kStreamingSigned;
  } else if (payload == kStreamingSignedTrailer) {
    ctx.payload_mode = PayloadMode::kStreamingSignedTrailer;
  } else if (payload == kStreamingUnsignedTrailer) {
    ctx.payload_mode = PayloadMode::kStreamingUnsignedTrailer;
  } else if (isLowerHexSha256(payload)) {
    ctx.payload_mode = PayloadMode::kSha256;
    ctx.payload_sha256 = payload;
  } else if (startsWith(payload, "STREAMING-")) {
    return s3Error("NotImplemented", "Payload mode " + payload + " is not supported.");
  } else {
    return s3Error("InvalidArgument",
                   "x-amz-content-sha256 must be a lower-case hex SHA-256, "
                   "UNSIGNED-PAYLOAD or a STREAMING-* mode");
  }

  Result<ResolvedAccessKey> key = keys_.resolve(fields.access_key);
  if (!key.ok()) return key.error();

  SigV4Request sreq;
  sreq.method = req.method;
  for (const auto& [name, value] : req.query) {
    if (name != "X-Amz-Signature") sreq.query.emplace_back(name, value);
  }
  sreq.headers = req.headers;
  sreq.signed_headers = fields.signed_headers;
  sreq.payload_hash = payload;
  const std::string scope = fields.date + "/" + fields.region + "/s3/aws4_request";
  const std::string signing_key = sigv4SigningKey(key->secret_key, fields.date, region_, "s3");
  // Clients encode the path once with the SigV4 rules; re-encoding the decoded path matches
  // them even when they left a reserved character raw. Some encode unreserved characters too,
  // so the path exactly as sent is tried second.
  Result<std::string> decoded = uriDecode(req.raw_path);
  bool matched = false;
  for (int attempt = 0; attempt < 2 && !matched; ++attempt) {
    if (attempt == 0 && !decoded.ok()) continue;
    sreq.canonical_uri = attempt == 0 ? uriEncode(*decoded, false) : req.raw_path;
    const std::string expected = sigv4SignatureHex(
        signing_key, sigv4StringToSign(amz_date, scope, sigv4CanonicalRequest(sreq)));
    matched = constantTimeEquals(expected, fields.signature);
  }
  if (!matched) return signatureMismatch();

  ctx.principal = key->principal;
  ctx.display_name = key->display_name;
  ctx.access_key = key->access_key;
  ctx.scope = key->scope;
  if (ctx.payload_mode == PayloadMode::kStreamingSigned ||
      ctx.payload_mode == PayloadMode::kStreamingSignedTrailer) {
    ctx.chunk_signing = ChunkSigning{signing_key, amz_date, scope, fields.signature};
  }
  return ctx;
}

Result<AuthContext> Authenticator::ed25519(const S3Request& req) const {
  const std::string payload = req.header("x-amz-content-sha256");
  if (!isLowerHexSha256(payload)) {
    return s3Error("InvalidRequest",
                   "DCLOUD-ED25519 requests must carry the body's hex SHA-256 "
                   "in x-amz-content-sha256.");
  }
  RequestToSign to_sign{req.method, req.raw_path, req.raw_query, payload};
  Result<std::string> principal = verifier_.verify(req.header("authorization"), to_sign);
  if (!principal.ok()) {
    const Error& e = principal.error();
    if (e.reason == "refresh-nonce") return s3Error("RequestTimeTooSkewed", e.message);
    if (e.code == ErrorCode::kUnauthenticated) {
      Error out = signatureMismatch();
      out.message += " (" + e.message + ")";
      return out;
    }
    return e;
  }
  AuthContext ctx;
  ctx.principal = *principal;
  ctx.display_name = *principal;
  ctx.payload_mode = PayloadMode::kSha256;
  ctx.payload_sha256 = payload;
  return ctx;
}

}  // namespace dcloud::gateway
