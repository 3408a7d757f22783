#include "storage-gateway/body_receiver.h"

#include <Poco/MD5Engine.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "common/crypto.h"
#include "storage-gateway/aws_chunked.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_names.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kBufferBytes = 256 * 1024;
constexpr std::size_t kMaxUserMetadataBytes = 2048;
constexpr const char* kMetaPrefix = "x-amz-meta-";

Error incompleteBody() {
  return s3Error("IncompleteBody",
                 "You did not provide the number of bytes specified by the "
                 "Content-Length HTTP header.");
}

}  // namespace

Result<std::map<std::string, std::string>> userMetadata(const S3Request& req) {
  std::map<std::string, std::string> meta;
  std::size_t total = 0;
  for (const auto& [name, value] : req.headers) {
    if (name.compare(0, std::strlen(kMetaPrefix), kMetaPrefix) != 0) continue;
    std::string short_name = name.substr(std::strlen(kMetaPrefix));
    total += short_name.size() + value.size();
    if (!isValidUtf8(value) || !isValidUtf8(short_name)) {
      return s3Error("InvalidArgument", "User metadata must be valid UTF-8.");
    }
    meta[std::move(short_name)] = value;
  }
  if (total > kMaxUserMetadataBytes) {
    return s3Error("MetadataTooLarge",
                   "Your metadata headers exceed the maximum allowed "
                   "metadata size (2 KB).");
  }
  return meta;
}

Result<BodyPlan> planBody(const GatewayConfig& config, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth) {
  BodyPlan plan;
  plan.wire_bytes = ex.contentLength();
  if (plan.wire_bytes < 0) {
    return s3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  plan.object_bytes = plan.wire_bytes;
  const std::string encoding = req.header("content-encoding");
  plan.chunked = auth.payload_mode == PayloadMode::kStreamingSigned;
  if (plan.chunked) {
    const std::string decoded = req.header("x-amz-decoded-content-length");
    char* end = nullptr;
    const long long v = std::strtoll(decoded.c_str(), &end, 10);
    if (decoded.empty() || *end != '\0' || v < 0) {
      return s3Error("MissingContentLength",
                     "Streaming uploads must send x-amz-decoded-content-length.");
    }
    plan.object_bytes = v;
  }
  if (plan.object_bytes > config.max_object_bytes) {
    return s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
  }
  if (req.hasHeader("content-md5")) {
    Result<std::string> raw = base64Decode(req.header("content-md5"));
    if (!raw.ok() || raw->size() != 16) {
      return s3Error("InvalidDigest", "The Content-MD5 you specified is not valid.");
    }
    plan.md5_hex = toHex(*raw);
  }
  return plan;
}

Result<std::string> receiveBody(S3Exchange& ex, const BodyPlan& plan, const AuthContext& auth,
                                ObjectWriter& writer) {
  Poco::MD5Engine md5;
  Sha256 sha;
  std::int64_t object_bytes = 0;
  auto sink = [&](std::string_view data) -> Status {
    object_bytes += static_cast<std::int64_t>(data.size());
    if (object_bytes > plan.object_bytes) {
      return s3Error("InvalidRequest", "The body is longer than x-amz-decoded-content-length.");
    }
    md5.update(data.data(), data.size());
    return writer.write(data.data(), data.size());
  };
  std::optional<AwsChunkedDecoder> decoder;
  if (plan.chunked) decoder.emplace(auth.chunk_signing);
  std::vector<char> buf(kBufferBytes);
  std::istream& in = ex.body();
  std::int64_t wire = 0;
  while (wire < plan.wire_bytes) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::int64_t>(kBufferBytes, plan.wire_bytes - wire));
    in.read(buf.data(), static_cast<std::streamsize>(want));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    wire += got;
    ex.record().bytes_in += got;
    std::string_view chunk(buf.data(), static_cast<std::size_t>(got));
    if (auth.payload_mode == PayloadMode::kSha256) sha.update(chunk);
    if (decoder) {
      DCLOUD_TRY(decoder->feed(chunk, sink));
    } else {
      DCLOUD_TRY(sink(chunk));
    }
  }
  if (wire < plan.wire_bytes) return incompleteBody();
  ex.markBodyConsumed();
  if (decoder && (!decoder->done() || object_bytes != plan.object_bytes)) return incompleteBody();
  if (auth.payload_mode == PayloadMode::kSha256 && sha.finishHex() != auth.payload_sha256) {
    return s3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const std::string md5_hex = Poco::DigestEngine::digestToHex(md5.digest());
  if (plan.md5_hex && *plan.md5_hex != md5_hex) {
    return s3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  return md5_hex;
}

}  // namespace dcloud::gateway
