#include "storage-gateway/body_receiver.h"

#include <Poco/Net/HTTPServerRequest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
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

namespace {

Error invalidRequest(const std::string& message) {
  return s3Error("InvalidRequest", message);
}

// The additional checksum a request declares: at most one x-amz-checksum-<algorithm> header, or
// an x-amz-trailer naming one (streaming trailer modes only), consistent with
// x-amz-sdk-checksum-algorithm when that is sent.
Result<std::optional<ChecksumPlan>> planChecksum(const S3Request& req, const AuthContext& auth) {
  using Out = std::optional<ChecksumPlan>;
  std::optional<ChecksumPlan> plan;
  for (const auto& [name, value] : req.headers) {
    std::optional<ChecksumAlgorithm> algorithm = checksumFromHeader(name);
    if (!algorithm) continue;
    if (plan) {
      return invalidRequest(
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
          "allowed.");
    }
    Result<std::string> raw = base64Decode(value);
    if (!raw.ok() || raw->size() != checksumBytes(*algorithm)) {
      return invalidRequest("Value for " + name + " header is invalid.");
    }
    plan = ChecksumPlan{*algorithm, value, false};
  }
  if (req.hasHeader("x-amz-trailer")) {
    const std::string trailer = req.header("x-amz-trailer");
    std::string lowered;
    for (char c : trailer) {
      if (c != ' ') lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::optional<ChecksumAlgorithm> algorithm = checksumFromHeader(lowered);
    if (!algorithm)
      return invalidRequest("The value specified in the x-amz-trailer header is not supported");
    if (auth.payload_mode != PayloadMode::kStreamingSignedTrailer &&
        auth.payload_mode != PayloadMode::kStreamingUnsignedTrailer) {
      return invalidRequest("x-amz-trailer needs a STREAMING-*-TRAILER x-amz-content-sha256.");
    }
    if (plan) {
      return invalidRequest(
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
          "allowed.");
    }
    plan = ChecksumPlan{*algorithm, "", true};
  }
  if (req.hasHeader("x-amz-sdk-checksum-algorithm")) {
    std::optional<ChecksumAlgorithm> sdk =
        checksumFromName(req.header("x-amz-sdk-checksum-algorithm"));
    if (!sdk) return invalidRequest("Checksum algorithm provided is unsupported.");
    if (!plan) {
      return invalidRequest(
          "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
          "x-amz-trailer headers were found.");
    }
    if (*sdk != plan->algorithm) {
      return invalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.");
    }
  }
  return Out{plan};
}

}  // namespace

Result<BodyPlan> planBody(const GatewayConfig& config, S3Exchange& ex, const S3Request& req,
                          const AuthContext& auth) {
  BodyPlan plan;
  plan.chunked = isStreamingPayload(auth.payload_mode);
  plan.wire_bytes = ex.contentLength();
  const bool http_chunked = ex.httpRequest().getChunkedTransferEncoding();
  if (plan.wire_bytes < 0 && !(plan.chunked && http_chunked)) {
    return s3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  // With Transfer-Encoding: chunked a Content-Length does not describe the body.
  if (http_chunked) plan.wire_bytes = -1;
  plan.object_bytes = plan.wire_bytes;
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
  Result<std::optional<ChecksumPlan>> checksum = planChecksum(req, auth);
  if (!checksum.ok()) return checksum.error();
  plan.checksum = std::move(*checksum);
  return plan;
}

Result<ReceivedBody> receiveBody(S3Exchange& ex, const BodyPlan& plan, const AuthContext& auth,
                                 ObjectWriter& writer) {
  Md5 md5;
  Sha256 sha;
  std::unique_ptr<Checksummer> checksummer;
  if (plan.checksum) checksummer = makeChecksummer(plan.checksum->algorithm);
  std::int64_t object_bytes = 0;
  auto sink = [&](std::string_view data) -> Status {
    object_bytes += static_cast<std::int64_t>(data.size());
    if (object_bytes > plan.object_bytes) {
      return s3Error("InvalidRequest", "The body is longer than x-amz-decoded-content-length.");
    }
    md5.update(data.data(), data.size());
    if (checksummer) checksummer->update(data);
    return writer.write(data.data(), data.size());
  };
  std::optional<AwsChunkedDecoder> decoder;
  if (plan.chunked) decoder.emplace(auth.chunk_signing);
  const bool to_end = plan.wire_bytes < 0;
  // Sized to the body when its length is known (a 4 KiB PUT needs no 256 KiB buffer), not zeroed.
  const std::size_t buf_bytes =
      to_end ? kBufferBytes
             : static_cast<std::size_t>(std::max<std::int64_t>(
                   1, std::min<std::int64_t>(plan.wire_bytes, kBufferBytes)));
  const auto buf = std::make_unique_for_overwrite<char[]>(buf_bytes);
  std::int64_t wire = 0;
  while (to_end || wire < plan.wire_bytes) {
    const std::size_t want =
        to_end ? buf_bytes
               : static_cast<std::size_t>(std::min<std::int64_t>(
                     static_cast<std::int64_t>(buf_bytes), plan.wire_bytes - wire));
    const auto got = static_cast<std::streamsize>(ex.readBody(buf.get(), want));
    if (got <= 0) break;
    wire += got;
    ex.record().bytes_in += got;
    std::string_view chunk(buf.get(), static_cast<std::size_t>(got));
    if (auth.payload_mode == PayloadMode::kSha256) sha.update(chunk);
    if (decoder) {
      DCLOUD_TRY(decoder->feed(chunk, sink));
    } else {
      DCLOUD_TRY(sink(chunk));
    }
  }
  if (!to_end && wire < plan.wire_bytes) return incompleteBody();
  // Poco's chunked stream ends cleanly only at the terminating zero chunk; a cut connection
  // leaves the stream bad, which the aws-chunked framing check below catches too.
  ex.markBodyConsumed();
  if (decoder && (!decoder->done() || object_bytes != plan.object_bytes)) return incompleteBody();
  if (auth.payload_mode == PayloadMode::kSha256 && sha.finishHex() != auth.payload_sha256) {
    return s3Error("XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  ReceivedBody out;
  out.md5_hex = md5.finishHex();
  if (plan.md5_hex && *plan.md5_hex != out.md5_hex) {
    return s3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (plan.checksum) {
    const ChecksumPlan& c = *plan.checksum;
    std::string expected = c.expected_base64;
    if (c.trailer) {
      auto it = decoder->trailers().find(checksumHeader(c.algorithm));
      if (it == decoder->trailers().end()) {
        return invalidRequest("The trailer " + checksumHeader(c.algorithm) +
                              " declared in x-amz-trailer was not sent.");
      }
      expected = it->second;
      Result<std::string> raw = base64Decode(expected);
      if (!raw.ok() || raw->size() != checksumBytes(c.algorithm)) {
        return invalidRequest("Value for " + checksumHeader(c.algorithm) +
                              " trailing header is invalid.");
      }
    }
    const std::string computed = base64Encode(checksummer->finish());
    if (computed != expected) {
      return s3Error("BadDigest", "The " + checksumName(c.algorithm) +
                                      " you specified did not match the calculated checksum.");
    }
    out.checksum_algorithm = checksumName(c.algorithm);
    out.checksum_value = computed;
  }
  return out;
}

}  // namespace dcloud::gateway
