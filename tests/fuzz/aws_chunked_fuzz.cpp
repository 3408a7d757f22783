// Fuzz target: the aws-chunked decoder. The first input byte chooses signed or unsigned framing
// and how the rest is cut into feed() calls (TCP reads end anywhere); the rest is the body.
// Checks: no crash, the sink sees exactly decodedBytes(), nothing reaches the sink after a failed
// feed, and a failed decoder stays failed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.h"
#include "storage-gateway/aws_chunked.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dcloud::gateway;
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::optional<ChunkSigning> signing;
  if (mode & 1) {
    // The same fixed signing context the corpus files were signed with (see README.md).
    signing = ChunkSigning{dcloud::sha256("fuzz signing key"), "20260101T000000Z",
                           "20260101/us-east-1/s3/aws4_request", std::string(64, '0')};
  }
  // Small chunk limit in some runs, so the "chunk too large" path is reached too.
  AwsChunkedDecoder decoder(signing, (mode & 2) ? 64 : 1u << 20);
  std::uint64_t sunk = 0;
  bool failed = false;
  auto sink = [&](std::string_view part) -> dcloud::Status {
    check(!failed);
    sunk += part.size();
    if ((mode & 4) && sunk > 200) return dcloud::invalidArgument("sink refuses");
    return dcloud::okStatus();
  };
  // Piece sizes cycle through 1..(mode >> 3)+1, so reads end at every offset in some input.
  const std::size_t step = static_cast<std::size_t>(mode >> 3) + 1;
  std::size_t pos = 0;
  std::size_t piece = 1;
  while (pos < body.size()) {
    const std::size_t n = std::min(piece, body.size() - pos);
    dcloud::Status st = decoder.feed(body.substr(pos, n), sink);
    if (!st.ok()) {
      failed = true;
      check(!decoder.done());
      // A failed decoder refuses more input without touching the sink.
      check(!decoder.feed("0\r\n\r\n", sink).ok());
      break;
    }
    pos += n;
    piece = piece % step + 1;
  }
  check(sunk == decoder.decodedBytes() || failed);
  if (decoder.done()) {
    check(!failed);
    for (const auto& [name, value] : decoder.trailers()) check(!name.empty());
  }
  return 0;
}
