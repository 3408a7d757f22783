#include "storage-gateway/aws_chunked.h"

#include <algorithm>
#include <cctype>

#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxTrailerBytes = 16 * 1024;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error malformed(const std::string& what) {
  return s3Error("InvalidRequest", "Malformed aws-chunked body: " + what);
}

}  // namespace

std::string chunkSignature(const ChunkSigning& signing, const std::string& previous_signature,
                           const std::string& data_sha256_hex) {
  std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing.amz_date + "\n" + signing.scope +
                        "\n" + previous_signature + "\n" + sha256Hex("") + "\n" + data_sha256_hex;
  return toHex(hmacSha256(signing.signing_key, to_sign));
}

std::string trailerSignature(const ChunkSigning& signing, const std::string& previous_signature,
                             const std::string& canonical_trailers) {
  std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n" + signing.amz_date + "\n" + signing.scope +
                        "\n" + previous_signature + "\n" + sha256Hex(canonical_trailers);
  return toHex(hmacSha256(signing.signing_key, to_sign));
}

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<ChunkSigning> signing,
                                     std::uint64_t max_chunk_bytes)
    : signing_(std::move(signing)), max_chunk_bytes_(max_chunk_bytes) {
  if (signing_) previous_signature_ = signing_->seed_signature;
}

Status AwsChunkedDecoder::fail(Error e) {
  state_ = State::kFailed;
  return e;
}

Status AwsChunkedDecoder::parseHeader() {
  // "<hex>[;chunk-signature=<sig>][;other-ext...]"
  std::string_view line = line_;
  std::size_t semi = line.find(';');
  std::string_view size_text = line.substr(0, semi);
  if (size_text.empty() || size_text.size() > 16) return malformed("bad chunk size");
  std::uint64_t size = 0;
  for (char c : size_text) {
    int v = hexValue(c);
    if (v < 0) return malformed("bad chunk size");
    size = (size << 4) | static_cast<std::uint64_t>(v);
  }
  if (size > max_chunk_bytes_) return malformed("chunk too large");
  chunk_signature_.clear();
  while (semi != std::string_view::npos) {
    std::string_view rest = line.substr(semi + 1);
    std::size_t next = rest.find(';');
    std::string_view ext = rest.substr(0, next);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.substr(0, kSig.size()) == kSig) chunk_signature_ = std::string(ext.substr(kSig.size()));
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  if (signing_ && chunk_signature_.size() != 64) return malformed("missing chunk signature");
  chunk_size_ = size;
  remaining_ = size;
  chunk_hash_ = Sha256();
  state_ = State::kData;
  return okStatus();
}

Status AwsChunkedDecoder::finishChunk() {
  if (signing_) {
    std::string expected = chunkSignature(*signing_, previous_signature_, chunk_hash_.finishHex());
    if (!constantTimeEquals(expected, chunk_signature_)) {
      return s3Error("SignatureDoesNotMatch",
                     "The chunk signature we calculated does not match the one you provided.");
    }
    previous_signature_ = chunk_signature_;
  }
  // A zero-length chunk ends the data; what follows is an optional trailer and an empty line.
  state_ = chunk_size_ == 0 ? State::kTrailer : State::kHeader;
  return okStatus();
}

Status AwsChunkedDecoder::addTrailer() {
  const std::size_t colon = line_.find(':');
  if (colon == std::string::npos || colon == 0) return malformed("bad trailer line");
  std::string name = line_.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line_.substr(colon + 1);
  const std::size_t first = value.find_first_not_of(" \t");
  const std::size_t last = value.find_last_not_of(" \t");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  if (!trailer_signature_.empty()) return malformed("trailer after the trailer signature");
  if (name == "x-amz-trailer-signature") {
    if (value.size() != 64) return malformed("bad trailer signature");
    trailer_signature_ = value;
    return okStatus();
  }
  if (trailers_.count(name) > 0) return malformed("repeated trailer " + name);
  canonical_trailers_ += name + ":" + value + "\n";
  trailers_[std::move(name)] = std::move(value);
  return okStatus();
}

Status AwsChunkedDecoder::finishTrailers() {
  if (!signing_) {
    if (!trailer_signature_.empty()) return malformed("trailer signature on an unsigned body");
    return okStatus();
  }
  if (trailers_.empty() && trailer_signature_.empty()) return okStatus();
  if (trailer_signature_.empty()) return malformed("missing trailer signature");
  const std::string expected =
      trailerSignature(*signing_, previous_signature_, canonical_trailers_);
  if (!constantTimeEquals(expected, trailer_signature_)) {
    return s3Error("SignatureDoesNotMatch",
                   "The trailer signature we calculated does not match the one you provided.");
  }
  return okStatus();
}

Status AwsChunkedDecoder::feed(std::string_view input, const Sink& sink) {
  std::size_t i = 0;
  while (i < input.size()) {
    switch (state_) {
      case State::kFailed: return malformed("decoder already failed");
      case State::kDone: return fail(malformed("data after the final chunk"));
      case State::kHeader:
      case State::kTrailer: {
        const char c = input[i++];
        if (c != '\n') {
          line_ += c;
          if (line_.size() > kMaxLine) return fail(malformed("header line too long"));
          break;
        }
        if (line_.empty() || line_.back() != '\r') return fail(malformed("expected CRLF"));
        line_.pop_back();
        if (state_ == State::kHeader) {
          Status st = parseHeader();
          line_.clear();
          if (!st.ok()) return fail(st.error());
          if (chunk_size_ == 0) state_ = State::kDataCr;
        } else {
          // Trailer lines ("x-amz-checksum-...:v") end with an empty line. Streaming without
          // trailers sends just that empty line.
          trailer_bytes_ += line_.size();
          if (trailer_bytes_ > kMaxTrailerBytes) return fail(malformed("trailers too long"));
          const bool end = line_.empty();
          Status st = end ? finishTrailers() : addTrailer();
          line_.clear();
          if (!st.ok()) return fail(st.error());
          if (end) state_ = State::kDone;
        }
        break;
      }
      case State::kData: {
        const std::uint64_t avail = input.size() - i;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, remaining_));
        std::string_view part = input.substr(i, n);
        chunk_hash_.update(part);
        Status st = sink(part);
        if (!st.ok()) return fail(st.error());
        decoded_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (chunk_size_ == 0) {
          // The final chunk has no data and no data CRLF: its header is followed directly by
          // the trailer section.
          Status st = finishChunk();
          if (!st.ok()) return fail(st.error());
          break;
        }
        if (input[i++] != '\r') return fail(malformed("expected CRLF after chunk data"));
        state_ = State::kDataLf;
        break;
      case State::kDataLf: {
        if (input[i++] != '\n') return fail(malformed("expected CRLF after chunk data"));
        Status st = finishChunk();
        if (!st.ok()) return fail(st.error());
        break;
      }
    }
  }
  // A final zero chunk that arrived at the very end of input still needs its signature checked.
  if (state_ == State::kDataCr && chunk_size_ == 0) {
    Status st = finishChunk();
    if (!st.ok()) return fail(st.error());
  }
  return okStatus();
}

}  // namespace dcloud::gateway
