#include "common/sigv4.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto.h"

namespace dcloud {
namespace {

// The example credentials of the Amazon S3 SigV4 documentation ("Examples: Signature
// Calculations in AWS Signature Version 4"); the IAM example uses '+' where S3's uses '/'.
constexpr const char* kS3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kAmzDate = "20130524T000000Z";
constexpr const char* kScope = "20130524/us-east-1/s3/aws4_request";

SigV4Request s3Request(const std::string& method, const std::string& uri,
                       std::vector<std::pair<std::string, std::string>> query,
                       std::map<std::string, std::string> extra_headers,
                       const std::string& payload_hash) {
  SigV4Request req;
  req.method = method;
  req.canonical_uri = uri;
  req.query = std::move(query);
  req.headers = std::move(extra_headers);
  req.headers["host"] = "examplebucket.s3.amazonaws.com";
  req.headers["x-amz-date"] = kAmzDate;
  req.headers["x-amz-content-sha256"] = payload_hash;
  for (const auto& [name, value] : req.headers) req.signed_headers.push_back(name);
  req.payload_hash = payload_hash;
  return req;
}

std::string s3Signature(const SigV4Request& req) {
  const std::string sts = sigv4StringToSign(kAmzDate, kScope, sigv4CanonicalRequest(req));
  return sigv4SignatureHex(sigv4SigningKey(kS3Secret, "20130524", "us-east-1", "s3"), sts);
}

TEST(SigV4Test, SigningKeyMatchesIamExample) {
  EXPECT_EQ(toHex(sigv4SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                  "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, S3GetObjectExample) {
  SigV4Request req = s3Request("GET", "/test.txt", {}, {{"range", "bytes=0-9"}}, kEmptySha256);
  const std::string canonical = sigv4CanonicalRequest(req);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sigv4StringToSign(kAmzDate, kScope, canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s3Signature(req), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  SigV4Credentials creds{kAccessKey, kS3Secret};
  EXPECT_EQ(sigv4Authorization(creds, req, kAmzDate),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectExample) {
  const std::string payload_hash = sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request req = s3Request(
      "PUT", uriEncode("/test$file.text", false), {},
      {{"date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      payload_hash);
  EXPECT_EQ(req.canonical_uri, "/test%24file.text");
  EXPECT_EQ(s3Signature(req), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleExample) {
  SigV4Request req = s3Request("GET", "/", {{"lifecycle", ""}}, {}, kEmptySha256);
  EXPECT_EQ(s3Signature(req), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsExample) {
  // Query parameters are sorted by name whatever order they come in.
  SigV4Request req = s3Request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, kEmptySha256);
  EXPECT_NE(sigv4CanonicalRequest(req).find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s3Signature(req), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, CanonicalRequestEncodesQueryAndTrimsHeaders) {
  SigV4Request req;
  req.method = "GET";
  req.canonical_uri = "/b/k";
  req.query = {{"b", "x y/z"}, {"a", "1"}, {"a b", ""}};
  req.headers = {{"host", "h"}, {"x-amz-meta-note", "  two   spaces\tand tab  "}};
  req.signed_headers = {"host", "x-amz-meta-note"};
  req.payload_hash = kUnsignedPayload;
  EXPECT_EQ(sigv4CanonicalRequest(req),
            "GET\n/b/k\na=1&a%20b=&b=x%20y%2Fz\nhost:h\nx-amz-meta-note:two spaces and tab\n\n"
            "host;x-amz-meta-note\nUNSIGNED-PAYLOAD");
}

TEST(SigV4Test, ParsesAuthorizationHeader) {
  for (const std::string sep : {", ", ","}) {
    const std::string header =
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request" +
        sep + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date" + sep +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    auto r = parseSigV4Authorization(header);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ(r->access_key, kAccessKey);
    EXPECT_EQ(r->date, "20130524");
    EXPECT_EQ(r->region, "us-east-1");
    EXPECT_EQ(r->service, "s3");
    EXPECT_EQ(r->signed_headers,
              (std::vector<std::string>{"host", "range", "x-amz-content-sha256", "x-amz-date"}));
    EXPECT_EQ(r->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  }
}

TEST(SigV4Test, ParsesWhatItSigns) {
  SigV4Credentials creds{"AK", "SK", "eu-west-3", "s3"};
  SigV4Request req = s3Request("GET", "/x", {}, {}, kEmptySha256);
  auto r = parseSigV4Authorization(sigv4Authorization(creds, req, "20261121T064451Z"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->access_key, "AK");
  EXPECT_EQ(r->date, "20261121");
  EXPECT_EQ(r->region, "eu-west-3");
  EXPECT_EQ(r->signed_headers, req.signed_headers);
  EXPECT_EQ(r->signature.size(), 64u);
}

TEST(SigV4Test, RejectsMalformedAuthorizationHeaders) {
  const std::string cred = "Credential=AK/20130524/us-east-1/s3/aws4_request";
  const std::string signed_headers = "SignedHeaders=host;x-amz-date";
  const std::string sig = "Signature=abcd";
  const std::string headers[] = {
      "",
      "AWS4-HMAC-SHA1 " + cred + ", " + signed_headers + ", " + sig,
      "Bearer token",
      "AWS4-HMAC-SHA256 " + signed_headers + ", " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", " + signed_headers,
      "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, " + signed_headers + ", " + sig,
      "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request, " + signed_headers +
          ", " + sig,
      "AWS4-HMAC-SHA256 Credential=AK/2013052/us-east-1/s3/aws4_request, " + signed_headers + ", " +
          sig,
      "AWS4-HMAC-SHA256 Credential=A/K/20130524/us-east-1/s3/aws4_request, " + signed_headers +
          ", " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig,
      "AWS4-HMAC-SHA256 " + cred + ", " + signed_headers + ", " + sig + ", garbage",
  };
  for (const std::string& h : headers) {
    auto r = parseSigV4Authorization(h);
    EXPECT_FALSE(r.ok()) << "accepted: " << h;
  }
}

TEST(SigV4Test, UriEncode) {
  EXPECT_EQ(uriEncode("a b", true), "a%20b");
  EXPECT_EQ(uriEncode("a+b", true), "a%2Bb");
  EXPECT_EQ(uriEncode("\xc3\xa9t\xc3\xa9", true), "%C3%A9t%C3%A9");  // "été"
  EXPECT_EQ(uriEncode("\xe2\x82\xac", false), "%E2%82%AC");          // euro sign
  EXPECT_EQ(uriEncode("/dir/file name", false), "/dir/file%20name");
  EXPECT_EQ(uriEncode("/dir/file", true), "%2Fdir%2Ffile");
  EXPECT_EQ(uriEncode("AZaz09-_.~", true), "AZaz09-_.~");
  EXPECT_EQ(uriEncode("*=&?%", true), "%2A%3D%26%3F%25");
  EXPECT_EQ(uriEncode("", true), "");
}

TEST(SigV4Test, UriDecode) {
  EXPECT_EQ(*uriDecode("a%20b"), "a b");
  EXPECT_EQ(*uriDecode("a+b"), "a+b");
  EXPECT_EQ(*uriDecode("%2f%2F"), "//");
  EXPECT_EQ(*uriDecode("%C3%A9"), "\xc3\xa9");
  EXPECT_EQ(*uriDecode("abc%41"), "abcA");
  EXPECT_EQ(*uriDecode(""), "");
  for (const char* bad : {"%", "%4", "a%", "%zz", "%4g", "x%g1"}) {
    auto r = uriDecode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  const std::string all = "a b/c~d\xe2\x82\xac%+*";
  EXPECT_EQ(*uriDecode(uriEncode(all, true)), all);
}

TEST(SigV4Test, AmzDate) {
  EXPECT_EQ(amzDate(0), "19700101T000000Z");
  EXPECT_EQ(amzDate(1'369'353'600'000), "20130524T000000Z");
  EXPECT_EQ(amzDate(1'795'243'491'999), "20261121T064451Z");
}

}  // namespace
}  // namespace dcloud
