#pragma once
// Tagging, CORS and canned-ACL rules and bodies, pure (no I/O).

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage-gateway/version_attributes.h"

namespace dcloud::gateway {

constexpr std::size_t kMaxObjectTags = 10;
constexpr std::size_t kMaxBucketTags = 50;
constexpr std::size_t kMaxTagKeyChars = 128;
constexpr std::size_t kMaxTagValueChars = 256;
constexpr std::size_t kMaxCorsRules = 100;

// ---- tagging ----
// <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>. MalformedXML, or InvalidTag
// past max_tags, for keys of 0 or more than 128 characters, values of more than 256, duplicate
// keys or keys starting with "aws:".
Result<TagSet> parseTagging(const std::string& xml, std::size_t max_tags);
// The x-amz-tagging header: URL query form "k1=v1&k2=v2". Same limits (10 tags).
Result<TagSet> parseTaggingHeader(const std::string& header);
Status validateTags(const TagSet& tags, std::size_t max_tags);
std::string taggingXml(const TagSet& tags);

// ---- CORS ----
struct CorsRule {
  std::string id;
  std::vector<std::string> origins;  // may hold one '*' wildcard each
  std::vector<std::string> methods;  // GET, PUT, HEAD, POST, DELETE
  std::vector<std::string> headers;  // allowed request headers, may hold one '*' each
  std::vector<std::string> expose;
  int max_age_seconds = -1;  // -1: not set
};
// <CORSConfiguration><CORSRule>...</CORSRule>...</CORSConfiguration>. MalformedXML without rules,
// with more than 100, or a rule without an origin or a method; InvalidRequest for an unsupported
// method.
Result<std::vector<CorsRule>> parseCors(const std::string& xml);
std::string corsXml(const std::vector<CorsRule>& rules);
// The first rule allowing origin, method and every one of request_headers (any case), or nullptr.
const CorsRule* matchCors(const std::vector<CorsRule>& rules, const std::string& origin,
                          const std::string& method,
                          const std::vector<std::string>& request_headers);
// "a, b,c" -> {"a", "b", "c"}, lower-cased.
std::vector<std::string> splitHeaderList(const std::string& value);
// Whether text matches pattern with at most one '*' (case-insensitive when fold is set).
bool wildcardMatch(const std::string& pattern, const std::string& text, bool fold);

// ---- canned ACLs ----
// The canonical name for a canned ACL header value: "private", "public-read" or
// "authenticated-read" (bucket-owner-read and bucket-owner-full-control mean private with one
// owner). NotImplemented for public-read-write and the rest; InvalidArgument for unknown names.
Result<std::string> cannedAcl(const std::string& value);
// An AccessControlPolicy body mapped back to a canned ACL: the owner's FULL_CONTROL plus READ for
// AllUsers (public-read) or AuthenticatedUsers (authenticated-read). NotImplemented otherwise.
Result<std::string> parseAccessControlPolicy(const std::string& xml);
std::string accessControlPolicyXml(const std::string& owner_id, const std::string& owner_name,
                                   const std::string& canned);

}  // namespace dcloud::gateway
