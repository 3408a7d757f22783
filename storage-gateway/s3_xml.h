#pragma once
// The XML bodies of S3 responses. Text is escaped for XML 1.0; control characters that XML cannot
// carry literally are written as character references, as S3 does (clients that care ask for
// encoding-type=url).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

inline constexpr const char* kXmlHeader = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
inline constexpr const char* kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string xmlEscape(std::string_view text);
// Appends <name>escaped text</name>.
void appendXmlElement(std::string& out, const char* name, std::string_view text);
// "2009-10-12T17:50:30.000Z"
std::string isoTimestamp(std::int64_t unix_millis);
// "Mon, 12 Oct 2009 17:50:30 GMT" (HTTP Last-Modified)
std::string httpDate(std::int64_t unix_millis);

std::string errorXml(const std::string& code, const std::string& message,
                     const std::string& resource, const std::string& request_id);

struct BucketEntry {
  std::string name;
  std::int64_t created_ms = 0;
};
std::string listBucketsXml(const std::string& owner_id, const std::string& display_name,
                           const std::vector<BucketEntry>& buckets);

struct ListedObject {
  std::string key;
  std::int64_t size = 0;
  std::string etag;  // hex, without quotes
  std::int64_t last_modified_ms = 0;
};

struct ListObjectsResponse {
  bool v2 = true;
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string start_after;         // v2; v1: the marker
  std::string continuation_token;  // v2, as given
  std::string next_token;          // v2: NextContinuationToken; v1: NextMarker
  int max_keys = 1000;
  bool truncated = false;
  bool url_encoding = false;  // encoding-type=url
  std::vector<ListedObject> contents;
  std::vector<std::string> common_prefixes;
};
std::string listObjectsXml(const ListObjectsResponse& r);

std::string createBucketLocationXml(const std::string& region);

std::string initiateMultipartUploadXml(const std::string& bucket, const std::string& key,
                                       const std::string& upload_id);
std::string completeMultipartUploadXml(const std::string& location, const std::string& bucket,
                                       const std::string& key, const std::string& etag);

struct CompletedPart {
  int part_number = 0;
  std::string etag;  // without quotes
};
// The <Part> list of a CompleteMultipartUpload body, in document order. MalformedXML when a part
// lacks a number (1..10000) or an ETag, or when there is no part at all.
Result<std::vector<CompletedPart>> parseCompleteMultipartUpload(const std::string& xml);

}  // namespace dcloud::gateway
