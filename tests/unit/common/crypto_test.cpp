#include "common/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace dcloud {
namespace {

TEST(CryptoTest, Sha256FipsVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(toHex(sha256("abc")), sha256Hex("abc"));
}

TEST(CryptoTest, IncrementalSha256MatchesOneShot) {
  const std::string data(1'000'000, 'a');  // FIPS 180-2 "one million a"
  Sha256 h;
  for (std::size_t i = 0; i < data.size(); i += 4096) {
    h.update(std::string_view(data).substr(i, 4096));
  }
  EXPECT_EQ(h.finishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  Sha256 empty;
  EXPECT_EQ(empty.finishHex(), sha256Hex(""));
  Sha256 raw;
  raw.update("abc");
  EXPECT_EQ(raw.finish(), sha256("abc"));
}

TEST(CryptoTest, Md5AndSha1Rfc1321AndFips180Vectors) {
  Md5 empty;
  EXPECT_EQ(empty.finishHex(), "d41d8cd98f00b204e9800998ecf8427e");
  Md5 split;
  split.update("message ");
  split.update("digest");
  EXPECT_EQ(split.finishHex(), "f96b697d7cb7938d525a2f31aaf161d0");
  StreamDigest sha1(StreamDigest::Algorithm::kSha1);
  sha1.update("abc");
  EXPECT_EQ(sha1.finishHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(CryptoTest, DigestsMoveWithTheirState) {
  Sha256 a;
  a.update("a");
  Sha256 b = std::move(a);
  b.update("bc");
  EXPECT_EQ(b.finishHex(), sha256Hex("abc"));
  Sha256 c;
  c.update("ignored");
  c = Sha256();
  c.update("abc");
  EXPECT_EQ(c.finish(), sha256("abc"));
}

TEST(CryptoTest, HmacSha256Rfc4231) {
  // Test case 2: a short key.
  EXPECT_EQ(toHex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(toHex(hmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, HexRoundTrip) {
  const std::string bytes("\x00\x01\x7f\x80\xfe\xff", 6);
  EXPECT_EQ(toHex(bytes), "00017f80feff");
  auto back = fromHex("00017f80feff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  auto upper = fromHex("00017F80FEFF");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, bytes);
  EXPECT_EQ(toHex(""), "");
  EXPECT_EQ(*fromHex(""), "");
}

TEST(CryptoTest, FromHexRejectsBadInput) {
  for (const char* text : {"0", "abc", "0g", "zz", "0x00", "00 "}) {
    auto r = fromHex(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CryptoTest, Base64Rfc4648Vectors) {
  struct Case {
    const char* plain;
    const char* encoded;
  };
  for (const Case& c :
       {Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
        Case{"foob", "Zm9vYg=="}, Case{"fooba", "Zm9vYmE="}, Case{"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(base64Encode(c.plain), c.encoded);
    auto back = base64Decode(c.encoded);
    ASSERT_TRUE(back.ok()) << c.encoded;
    EXPECT_EQ(*back, c.plain);
  }
}

TEST(CryptoTest, Base64RoundTripsBinary) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= bytes.size(); n += 17) {
    auto back = base64Decode(base64Encode(bytes.substr(0, n)));
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, bytes.substr(0, n));
  }
}

TEST(CryptoTest, Base64RejectsBadInput) {
  for (const char* text : {"Zm9v!", "Zg", "Zg=", "Z===", "Zm9v\n", "Zm-_"}) {
    auto r = base64Decode(text);
    ASSERT_FALSE(r.ok()) << text << " decoded to " << toHex(*r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace dcloud
