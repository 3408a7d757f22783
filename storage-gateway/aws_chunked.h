#pragma once
// Decoder for the aws-chunked body of STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads:
//   <hex size>;chunk-signature=<64 hex>\r\n <data> \r\n ... 0;chunk-signature=<sig>\r\n \r\n
// Each chunk's signature chains on the previous one (the seed is the Authorization signature):
//   HMAC(signing_key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" prev "\n"
//                     hex(sha256("")) "\n" hex(sha256(data)))
// The decoder is incremental and holds at most one header line; data goes to the sink as it
// arrives, so a chunk's bytes reach the sink before its signature is checked. Callers must treat
// the upload as failed (and store nothing) unless feed() returned ok for every byte and done().
// After the final chunk come optional trailer lines "name:value" (x-amz-checksum-*), collected in
// trailers(). With signing, a trailer section must end with x-amz-trailer-signature, which chains
// on the final chunk's signature:
//   HMAC(signing_key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" prev "\n"
//                     hex(sha256("name:value\n" for each trailer)))

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.h"
#include "common/result.h"

namespace dcloud::gateway {

struct ChunkSigning {
  std::string signing_key;     // raw SigV4 signing key
  std::string amz_date;        // "20261121T064451Z"
  std::string scope;           // "20261121/us-east-1/s3/aws4_request"
  std::string seed_signature;  // hex signature of the request's Authorization header
};

// The signature of one chunk given the previous signature and the chunk's sha256 hex.
std::string chunkSignature(const ChunkSigning& signing, const std::string& previous_signature,
                           const std::string& data_sha256_hex);
// The signature of the trailer section; canonical_trailers is "name:value\n" per trailer.
std::string trailerSignature(const ChunkSigning& signing, const std::string& previous_signature,
                             const std::string& canonical_trailers);

class AwsChunkedDecoder {
 public:
  using Sink = std::function<Status(std::string_view)>;
  // signing: nullopt when chunks carry no signatures (unsigned streaming).
  explicit AwsChunkedDecoder(std::optional<ChunkSigning> signing,
                             std::uint64_t max_chunk_bytes = 64ull << 20);

  // Consumes input; passes decoded payload bytes to sink. Errors: IncompleteBody/InvalidArgument
  // (reason "InvalidRequest") for malformed framing, SignatureDoesNotMatch for a bad chunk
  // signature, and whatever sink returns. After an error the decoder stays failed.
  Status feed(std::string_view input, const Sink& sink);
  // True once the final zero-length chunk and its terminating CRLF were read.
  bool done() const { return state_ == State::kDone; }
  // Bytes after the end of the encoding are an error; so is input after done().
  std::uint64_t decodedBytes() const { return decoded_; }
  // Trailer fields by lower-case name (without x-amz-trailer-signature), once done().
  const std::map<std::string, std::string>& trailers() const { return trailers_; }

 private:
  enum class State { kHeader, kData, kDataCr, kDataLf, kTrailer, kDone, kFailed };
  Status fail(Error e);
  Status parseHeader();
  Status finishChunk();
  Status addTrailer();
  Status finishTrailers();

  std::optional<ChunkSigning> signing_;
  std::uint64_t max_chunk_bytes_;
  State state_ = State::kHeader;
  std::string line_;
  std::uint64_t remaining_ = 0;
  std::uint64_t chunk_size_ = 0;
  std::string chunk_signature_;
  std::string previous_signature_;
  Sha256 chunk_hash_;
  std::uint64_t decoded_ = 0;
  std::map<std::string, std::string> trailers_;
  std::string canonical_trailers_;
  std::string trailer_signature_;
  std::size_t trailer_bytes_ = 0;
};

}  // namespace dcloud::gateway
