#pragma once
// AWS Signature Version 4, shared by the S3 client (signing) and the gateway (verification).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dcloud {

constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper
// case); '/' kept when encode_slash is false (for paths).
std::string uriEncode(std::string_view text, bool encode_slash);
// Percent-decoding ('+' is not a space). InvalidArgument on a bad escape.
Result<std::string> uriDecode(std::string_view text);

struct SigV4Request {
  std::string method;
  std::string canonical_uri;  // the path, URI-encoded once (S3 does not double-encode)
  std::vector<std::pair<std::string, std::string>> query;  // decoded names and values
  std::map<std::string, std::string> headers;              // lower-case name -> value
  std::vector<std::string> signed_headers;                 // lower-case, sorted
  std::string payload_hash;  // hex sha256, or UNSIGNED-PAYLOAD, or a STREAMING-* marker
};

std::string sigv4CanonicalRequest(const SigV4Request& req);
// scope: "20261121/us-east-1/s3/aws4_request"
std::string sigv4StringToSign(const std::string& amz_date, const std::string& scope,
                              const std::string& canonical_request);
std::string sigv4SigningKey(const std::string& secret, const std::string& date,
                            const std::string& region, const std::string& service);
std::string sigv4SignatureHex(const std::string& signing_key, const std::string& string_to_sign);

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

// The full Authorization header value for req signed at amz_date ("20261121T064451Z").
std::string sigv4Authorization(const SigV4Credentials& creds, const SigV4Request& req,
                               const std::string& amz_date);

struct SigV4AuthorizationFields {
  std::string access_key;
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Result<SigV4AuthorizationFields> parseSigV4Authorization(const std::string& header);

// "20261121T064451Z" for a Unix time in milliseconds.
std::string amzDate(std::int64_t unix_millis);

}  // namespace dcloud
