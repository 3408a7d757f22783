#pragma once
// Internal to the gateway: receiving an upload body (PutObject, UploadPart). Sizes and digests
// are decided from the headers before any byte is read; the bytes stream through a fixed buffer
// into an ObjectWriter while MD5 (the ETag), SHA-256 (x-amz-content-sha256), the additional
// checksum (x-amz-checksum-* header or trailer) and, for aws-chunked bodies, the chunk signature
// chain are checked. aws-chunked bodies may come with a Content-Length or, with no length, over
// Transfer-Encoding: chunked; their size is x-amz-decoded-content-length either way.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "storage-gateway/authenticator.h"
#include "storage-gateway/checksums.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/object_store.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_request.h"

namespace dcloud::gateway {

struct ChecksumPlan {
  ChecksumAlgorithm algorithm = ChecksumAlgorithm::kCrc32;
  std::string expected_base64;  // from the header; empty when it comes as a trailer
  bool trailer = false;
};

struct BodyPlan {
  std::int64_t wire_bytes = 0;         // Content-Length; -1: HTTP chunked, read to its end
  std::int64_t object_bytes = 0;       // decoded size
  bool chunked = false;                // aws-chunked framing
  std::optional<std::string> md5_hex;  // from Content-MD5
  std::optional<ChecksumPlan> checksum;
};

struct ReceivedBody {
  std::string md5_hex;
  std::string checksum_algorithm;  // checksumName(), empty when none was sent
  std::string checksum_value;      // base64, verified
};

// x-amz-meta-* headers (names without the prefix). MetadataTooLarge past 2 KB.
Result<std::map<std::string, std::string>> userMetadata(const S3Request& req);
// MissingContentLength, EntityTooLarge (past config.max_object_bytes), InvalidDigest,
// InvalidRequest (malformed, several or undeclared checksums).
Result<BodyPlan> planBody(const GatewayConfig& config, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth);
// Streams the body into writer; returns its digests. IncompleteBody, XAmzContentSHA256Mismatch,
// BadDigest (Content-MD5 or checksum), InvalidRequest (missing trailer), SignatureDoesNotMatch
// (chunks, trailer), or the writer's error. On any error the caller must drop the writer, which
// discards what was written.
Result<ReceivedBody> receiveBody(S3Exchange& ex, const BodyPlan& plan, const AuthContext& auth,
                                 ObjectWriter& writer);

}  // namespace dcloud::gateway
