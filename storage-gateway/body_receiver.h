#pragma once
// Internal to the gateway: receiving an upload body (PutObject, UploadPart). Sizes and digests
// are decided from the headers before any byte is read; the bytes stream through a fixed buffer
// into an ObjectWriter while MD5 (the ETag), SHA-256 (x-amz-content-sha256) and, for aws-chunked
// bodies, the chunk signature chain are checked.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "storage-gateway/authenticator.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/object_store.h"
#include "storage-gateway/s3_exchange.h"
#include "storage-gateway/s3_request.h"

namespace dcloud::gateway {

struct BodyPlan {
  std::int64_t wire_bytes = 0;         // Content-Length
  std::int64_t object_bytes = 0;       // decoded size
  bool chunked = false;                // aws-chunked framing
  std::optional<std::string> md5_hex;  // from Content-MD5
};

// x-amz-meta-* headers (names without the prefix). MetadataTooLarge past 2 KB.
Result<std::map<std::string, std::string>> userMetadata(const S3Request& req);
// MissingContentLength, EntityTooLarge (past config.max_object_bytes), InvalidDigest.
Result<BodyPlan> planBody(const GatewayConfig& config, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth);
// Streams the body into writer; returns the md5 hex of the object bytes. IncompleteBody,
// XAmzContentSHA256Mismatch, BadDigest, SignatureDoesNotMatch (chunks), or the writer's error.
// On any error the caller must drop the writer, which discards what was written.
Result<std::string> receiveBody(S3Exchange& ex, const BodyPlan& plan, const AuthContext& auth,
                                ObjectWriter& writer);

}  // namespace dcloud::gateway
