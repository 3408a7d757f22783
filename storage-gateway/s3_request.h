#pragma once
// One S3 request as the gateway sees it: path-style (/bucket/key) or virtual-host-style
// (Host: bucket.<domain>, path /key) addressing, the raw path and query (for signatures), decoded
// query parameters and lower-cased headers.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

struct S3Request {
  std::string method;                                      // upper case
  std::string raw_path;                                    // as sent, without the query
  std::string raw_query;                                   // as sent, without '?'
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // lower-case names
  std::string bucket;                                      // empty for service-level requests
  std::string key;  // decoded; empty for bucket-level requests

  bool hasQuery(const std::string& name) const;
  std::optional<std::string> queryValue(const std::string& name) const;
  std::string header(const std::string& lower_name) const;
  bool hasHeader(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
};

// Splits the URI, decodes the query and the key. InvalidArgument (S3 reason InvalidURI) on a
// malformed escape. headers must already have lower-case names. When the Host header names a
// bucket under one of domains (virtual-host style), the whole path is the key; otherwise the
// first path segment is the bucket (path style, also for the bare domain and IP hosts).
Result<S3Request> parseS3Request(const std::string& method, const std::string& uri,
                                 std::map<std::string, std::string> headers,
                                 const std::vector<std::string>& domains = {});
// The bucket a Host header value addresses virtual-host style ("b.s3.example.test:9000" with
// domain "s3.example.test" -> "b"); nullopt for any other host. Case-insensitive, port ignored.
std::optional<std::string> virtualHostBucket(const std::string& host,
                                             const std::vector<std::string>& domains);
// "--domain a,b --domain c" values -> lower-case domains without empty entries or trailing dots.
std::vector<std::string> splitDomains(const std::vector<std::string>& values);
// "a=1&b=%20" -> decoded pairs; a name without '=' has an empty value.
Result<std::vector<std::pair<std::string, std::string>>> parseQuery(const std::string& raw);

}  // namespace dcloud::gateway
