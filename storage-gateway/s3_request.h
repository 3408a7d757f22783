#pragma once
// One S3 request as the gateway sees it: path-style addressing (/bucket/key), the raw path and
// query (for signatures), decoded query parameters and lower-cased headers.

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
// malformed escape. headers must already have lower-case names.
Result<S3Request> parseS3Request(const std::string& method, const std::string& uri,
                                 std::map<std::string, std::string> headers);
// "a=1&b=%20" -> decoded pairs; a name without '=' has an empty value.
Result<std::vector<std::pair<std::string, std::string>>> parseQuery(const std::string& raw);

}  // namespace dcloud::gateway
