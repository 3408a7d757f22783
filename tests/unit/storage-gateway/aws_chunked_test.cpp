#include "storage-gateway/aws_chunked.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/crypto.h"
#include "common/sigv4.h"

namespace dcloud::gateway {
namespace {

ChunkSigning testSigning() {
  ChunkSigning s;
  s.signing_key =
      sigv4SigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3");
  s.amz_date = "20130524T000000Z";
  s.scope = "20130524/us-east-1/s3/aws4_request";
  s.seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  return s;
}

// Encodes payload as aws-chunked with chunk_size bytes per chunk, signing each chunk.
std::string encode(const ChunkSigning& s, const std::string& payload, std::size_t chunk_size) {
  std::string out;
  std::string prev = s.seed_signature;
  std::size_t pos = 0;
  for (;;) {
    const std::string data = payload.substr(pos, chunk_size);
    const std::string sig = chunkSignature(s, prev, sha256Hex(data));
    char size_hex[32];
    std::snprintf(size_hex, sizeof size_hex, "%zx", data.size());
    out += std::string(size_hex) + ";chunk-signature=" + sig + "\r\n" + data + "\r\n";
    prev = sig;
    pos += data.size();
    if (data.empty()) break;
  }
  return out;
}

struct Decoded {
  Status status;
  std::string data;
  bool done = false;
};

Decoded decode(const ChunkSigning& s, const std::string& body, std::size_t piece) {
  AwsChunkedDecoder decoder(s);
  Decoded d;
  for (std::size_t i = 0; i < body.size() && d.status.ok(); i += piece) {
    d.status = decoder.feed(std::string_view(body).substr(i, piece), [&](std::string_view v) {
      d.data.append(v);
      return okStatus();
    });
  }
  d.done = decoder.done();
  return d;
}

TEST(AwsChunkedTest, MatchesTheAwsDocumentationExample) {
  // The first chunk signature from "Signature Calculations for the Authorization Header:
  // Transferring Payload in Multiple Chunks" (65 KiB of 'a', 64 KiB chunks).
  const ChunkSigning s = testSigning();
  const std::string first = chunkSignature(s, s.seed_signature, sha256Hex(std::string(65536, 'a')));
  EXPECT_EQ(first, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  const std::string second = chunkSignature(s, first, sha256Hex(std::string(1024, 'a')));
  EXPECT_EQ(second, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
  EXPECT_EQ(chunkSignature(s, second, sha256Hex("")),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
}

TEST(AwsChunkedTest, DecodesWhateverTheReadSizes) {
  const ChunkSigning s = testSigning();
  std::string payload;
  for (int i = 0; i < 70000; ++i) payload += static_cast<char>('a' + i % 26);
  const std::string body = encode(s, payload, 65536);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, body.size()}) {
    Decoded d = decode(s, body, piece);
    ASSERT_TRUE(d.status.ok()) << piece << ": " << d.status.error().message;
    EXPECT_TRUE(d.done) << piece;
    EXPECT_EQ(d.data, payload) << piece;
  }
}

TEST(AwsChunkedTest, EmptyPayloadIsOneFinalChunk) {
  const ChunkSigning s = testSigning();
  Decoded d = decode(s, encode(s, "", 10), 3);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "");
}

TEST(AwsChunkedTest, RefusesATamperedChunk) {
  const ChunkSigning s = testSigning();
  std::string body = encode(s, std::string(100, 'x'), 40);
  body[body.find("\r\n") + 5] = 'y';  // change one data byte of the first chunk
  Decoded d = decode(s, body, 16);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.error().reason, "SignatureDoesNotMatch");
  EXPECT_FALSE(d.done);
}

TEST(AwsChunkedTest, RefusesChunksSignedWithAnotherKey) {
  ChunkSigning other = testSigning();
  other.signing_key = sigv4SigningKey("wrong-secret", "20130524", "us-east-1", "s3");
  const std::string body = encode(other, "hello world", 4);
  Decoded d = decode(testSigning(), body, 100);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.error().reason, "SignatureDoesNotMatch");
}

TEST(AwsChunkedTest, RefusesReorderedChunks) {
  // Each signature chains on the previous one, so swapping two equal-size chunks fails.
  const ChunkSigning s = testSigning();
  const std::string body = encode(s, "aaaabbbb", 4);
  const std::size_t second = body.find("\r\n", body.find("\r\n") + 2) + 2;
  const std::size_t third = body.find("\r\n", body.find("\r\n", second) + 2) + 2;
  const std::string swapped =
      body.substr(second, third - second) + body.substr(0, second) + body.substr(third);
  Decoded d = decode(s, swapped, 5);
  EXPECT_FALSE(d.status.ok());
}

TEST(AwsChunkedTest, TruncatedBodyIsNotDone) {
  const ChunkSigning s = testSigning();
  const std::string body = encode(s, std::string(50, 'q'), 20);
  Decoded d = decode(s, body.substr(0, body.size() - 90), 8);
  EXPECT_TRUE(d.status.ok());
  EXPECT_FALSE(d.done);
}

TEST(AwsChunkedTest, RefusesMalformedFraming) {
  const ChunkSigning s = testSigning();
  for (const std::string& bad :
       {std::string("zz;chunk-signature=abc\r\n"), std::string("5\r\nhello\r\n"),
        std::string("5;chunk-signature=") + std::string(64, '0') + "\nhello",
        std::string(5000, '1')}) {
    Decoded d = decode(s, bad, 3);
    EXPECT_FALSE(d.status.ok()) << bad.substr(0, 40);
  }
}

TEST(AwsChunkedTest, RefusesDataAfterTheFinalChunk) {
  const ChunkSigning s = testSigning();
  Decoded d = decode(s, encode(s, "abc", 2) + "extra", 1000);
  EXPECT_FALSE(d.status.ok());
}

TEST(AwsChunkedTest, UnsignedChunksWithTrailer) {
  AwsChunkedDecoder decoder(std::nullopt);
  std::string out;
  Status st = decoder.feed("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
                           [&](std::string_view v) {
                             out.append(v);
                             return okStatus();
                           });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(out, "abc");
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers().at("x-amz-checksum-crc32"), "AAAAAA==");
}

// Signed chunks, then "x-amz-checksum-crc32c:..." and the trailer signature chained on the final
// chunk's signature. tamper: 0 none, 1 wrong trailer signature, 2 changed trailer value.
std::string signedWithTrailer(const ChunkSigning& s, const std::string& payload, int tamper) {
  std::string body = encode(s, payload, 4);
  body.resize(body.size() - 2);  // the final chunk's CRLF ends the trailer section instead
  // The last chunk signature is the one on the final zero-length chunk's header line.
  const std::size_t at = body.rfind("chunk-signature=") + 16;
  const std::string last = body.substr(at, 64);
  const std::string trailer = "x-amz-checksum-crc32c:sOO8/Q==";
  std::string sig = trailerSignature(s, last, trailer + "\n");
  if (tamper == 1) sig[0] = sig[0] == 'a' ? 'b' : 'a';
  body += (tamper == 2 ? "x-amz-checksum-crc32c:AAAAAA==" : trailer) + std::string("\r\n");
  body += "x-amz-trailer-signature:" + sig + "\r\n\r\n";
  return body;
}

TEST(AwsChunkedTest, SignedTrailerIsVerified) {
  const ChunkSigning s = testSigning();
  for (std::size_t piece : {1, 7, 100000}) {
    Decoded good = decode(s, signedWithTrailer(s, "hello trailer", 0), piece);
    ASSERT_TRUE(good.status.ok()) << good.status.error().message;
    EXPECT_TRUE(good.done);
    EXPECT_EQ(good.data, "hello trailer");
  }
  for (int tamper : {1, 2}) {
    Decoded bad = decode(s, signedWithTrailer(s, "hello trailer", tamper), 5);
    ASSERT_FALSE(bad.status.ok()) << tamper;
    EXPECT_EQ(bad.status.error().reason, "SignatureDoesNotMatch");
  }
}

TEST(AwsChunkedTest, SignedTrailerWithoutSignatureIsRefused) {
  const ChunkSigning s = testSigning();
  std::string body = encode(s, "abc", 4);
  body.resize(body.size() - 2);
  body += "x-amz-checksum-crc32:AAAAAA==\r\n\r\n";
  Decoded d = decode(s, body, 1000);
  EXPECT_FALSE(d.status.ok());
  EXPECT_FALSE(d.done);
}

TEST(AwsChunkedTest, MalformedTrailersAreRefused) {
  for (const std::string trailer :
       {"no-colon\r\n\r\n", ":empty-name\r\n\r\n", "a:1\r\na:2\r\n\r\n", "a:1\n\r\n"}) {
    AwsChunkedDecoder decoder(std::nullopt);
    Status st =
        decoder.feed("1\r\nx\r\n0\r\n" + trailer, [](std::string_view) { return okStatus(); });
    EXPECT_FALSE(st.ok()) << trailer;
  }
}

TEST(AwsChunkedTest, SinkErrorsStopTheDecoder) {
  const ChunkSigning s = testSigning();
  AwsChunkedDecoder decoder(s);
  Status st = decoder.feed(encode(s, "abcdef", 3),
                           [](std::string_view) { return internalError("disk full"); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "disk full");
}

}  // namespace
}  // namespace dcloud::gateway
