#include "storage-gateway/s3_xml.h"

#include <gtest/gtest.h>

namespace dcloud::gateway {
namespace {

TEST(S3XmlTest, EscapesMarkupAndControlCharacters) {
  EXPECT_EQ(xmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xmlEscape(std::string("x\x01y\x1fz", 5)), "x&#x1;y&#x1F;z");
  EXPECT_EQ(xmlEscape("\xc3\xa9"), "\xc3\xa9");
}

TEST(S3XmlTest, Timestamps) {
  EXPECT_EQ(isoTimestamp(1255369830123), "2009-10-12T17:50:30.123Z");
  EXPECT_EQ(httpDate(1255369830123), "Mon, 12 Oct 2009 17:50:30 GMT");
}

TEST(S3XmlTest, ErrorDocument) {
  EXPECT_EQ(errorXml("NoSuchKey", "The specified key does not exist.", "/b/a&b", "REQ1"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
            "<Message>The specified key does not exist.</Message><Resource>/b/a&amp;b</Resource>"
            "<RequestId>REQ1</RequestId></Error>");
}

TEST(S3XmlTest, ListBuckets) {
  const std::string xml = listBucketsXml("alice", "Alice", {{"b1", 0}, {"b2", 1000}});
  EXPECT_NE(xml.find("<Owner><ID>alice</ID><DisplayName>Alice</DisplayName></Owner>"),
            std::string::npos);
  EXPECT_NE(xml.find("<Bucket><Name>b1</Name><CreationDate>1970-01-01T00:00:00.000Z"
                     "</CreationDate></Bucket><Bucket><Name>b2</Name>"),
            std::string::npos);
}

TEST(S3XmlTest, ListObjectsV2WithUrlEncoding) {
  ListObjectsResponse r;
  r.bucket = "b";
  r.prefix = "dir one/";
  r.delimiter = "/";
  r.max_keys = 2;
  r.truncated = true;
  r.next_token = "tok";
  r.url_encoding = true;
  r.contents.push_back({"dir one/a&b \xc3\xa9.txt", 5, "abc", 0});
  r.common_prefixes.push_back("dir one/sub/");
  const std::string xml = listObjectsXml(r);
  EXPECT_NE(xml.find("<Prefix>dir%20one/</Prefix>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<KeyCount>2</KeyCount>"), std::string::npos);
  EXPECT_NE(xml.find("<NextContinuationToken>tok</NextContinuationToken>"), std::string::npos);
  EXPECT_NE(xml.find("<IsTruncated>true</IsTruncated>"), std::string::npos);
  EXPECT_NE(xml.find("<EncodingType>url</EncodingType>"), std::string::npos);
  EXPECT_NE(xml.find("<Key>dir%20one/a%26b%20%C3%A9.txt</Key>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ETag>&quot;abc&quot;</ETag><Size>5</Size>"), std::string::npos);
  EXPECT_NE(xml.find("<CommonPrefixes><Prefix>dir%20one/sub/</Prefix></CommonPrefixes>"),
            std::string::npos);
}

TEST(S3XmlTest, ListObjectsEscapesWithoutEncoding) {
  ListObjectsResponse r;
  r.bucket = "b";
  r.contents.push_back({"a<b", 1, "e", 0});
  const std::string xml = listObjectsXml(r);
  EXPECT_NE(xml.find("<Key>a&lt;b</Key>"), std::string::npos);
  EXPECT_EQ(xml.find("EncodingType"), std::string::npos);
  EXPECT_EQ(xml.find("NextContinuationToken"), std::string::npos);
}

TEST(S3XmlTest, ParsesCompleteMultipartUpload) {
  Result<std::vector<CompletedPart>> parts = parseCompleteMultipartUpload(
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Part><ETag>\"aa\"</ETag><PartNumber>1</PartNumber></Part>\n"
      "<Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag></Part>"
      "</CompleteMultipartUpload>");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].part_number, 1);
  EXPECT_EQ((*parts)[0].etag, "aa");
  EXPECT_EQ((*parts)[1].part_number, 2);
  EXPECT_EQ((*parts)[1].etag, "bb");
  for (const char* bad :
       {"", "<CompleteMultipartUpload/>", "<Part><PartNumber>0</PartNumber><ETag>a</ETag></Part>",
        "<Part><PartNumber>x</PartNumber><ETag>a</ETag></Part>",
        "<Part><PartNumber>1</PartNumber></Part>",
        "<Part><PartNumber>1</PartNumber><ETag>a</ETag>"}) {
    Result<std::vector<CompletedPart>> r = parseCompleteMultipartUpload(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().reason, "MalformedXML");
  }
}

TEST(S3XmlTest, MultipartResults) {
  EXPECT_NE(initiateMultipartUploadXml("b", "k&", "U1")
                .find("<Bucket>b</Bucket><Key>k&amp;</Key><UploadId>U1</UploadId>"),
            std::string::npos);
  EXPECT_NE(
      completeMultipartUploadXml("/b/k", "b", "k", "abc-2").find("<ETag>&quot;abc-2&quot;</ETag>"),
      std::string::npos);
}

}  // namespace
}  // namespace dcloud::gateway
