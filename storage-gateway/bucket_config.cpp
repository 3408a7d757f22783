#include "storage-gateway/bucket_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "storage-gateway/config_xml.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_names.h"
#include "storage-gateway/s3_request.h"

namespace dcloud::gateway {
namespace {

constexpr const char* kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr const char* kAuthenticatedUsers =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

// Characters (code points) of valid UTF-8 text.
std::size_t utf8Chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

Error invalidTag(const std::string& why) {
  return s3Error("InvalidTag", why);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  const std::size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

}  // namespace

Status validateTags(const TagSet& tags, std::size_t max_tags) {
  if (tags.size() > max_tags) {
    return invalidTag("Object tags cannot be greater than " + std::to_string(max_tags));
  }
  std::set<std::string> seen;
  for (const auto& [k, v] : tags) {
    if (!isValidUtf8(k) || !isValidUtf8(v))
      return invalidTag("The TagKey you have provided is invalid");
    if (k.empty() || utf8Chars(k) > kMaxTagKeyChars) {
      return invalidTag("The TagKey you have provided is too long, max 128");
    }
    if (utf8Chars(v) > kMaxTagValueChars) {
      return invalidTag("The TagValue you have provided is too long, max 256");
    }
    if (k.compare(0, 4, "aws:") == 0) {
      return invalidTag("Your TagKey cannot be prefixed with aws:");
    }
    if (!seen.insert(k).second) return invalidTag("Cannot provide multiple Tags with the same key");
  }
  return okStatus();
}

Result<TagSet> parseTagging(const std::string& xml, std::size_t max_tags) {
  Result<XmlNode> root = parseConfigXml(xml, "Tagging");
  if (!root.ok()) return root.error();
  const XmlNode* set = root->child("TagSet");
  if (set == nullptr) return malformedXmlError();
  TagSet tags;
  for (const XmlNode* tag : set->all("Tag")) {
    if (tag->child("Key") == nullptr) return malformedXmlError();
    tags.emplace_back(tag->childText("Key"), tag->childText("Value"));
  }
  DCLOUD_TRY(validateTags(tags, max_tags));
  return tags;
}

Result<TagSet> parseTaggingHeader(const std::string& header) {
  Result<std::vector<std::pair<std::string, std::string>>> pairs = parseQuery(header);
  if (!pairs.ok())
    return invalidTag(
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "
        "without tag name duplicates.");
  TagSet tags(pairs->begin(), pairs->end());
  DCLOUD_TRY(validateTags(tags, kMaxObjectTags));
  return tags;
}

std::string taggingXml(const TagSet& tags) {
  std::string out = xmlDocumentStart("Tagging") + "<TagSet>";
  for (const auto& [k, v] : tags)
    out += "<Tag>" + xmlElement("Key", k) + xmlElement("Value", v) + "</Tag>";
  return out + "</TagSet>" + xmlDocumentEnd("Tagging");
}

bool wildcardMatch(const std::string& pattern, const std::string& text, bool fold) {
  const std::string p = fold ? lower(pattern) : pattern;
  const std::string t = fold ? lower(text) : text;
  const std::size_t star = p.find('*');
  if (star == std::string::npos) return p == t;
  const std::string head = p.substr(0, star);
  const std::string tail = p.substr(star + 1);
  return t.size() >= head.size() + tail.size() && t.compare(0, head.size(), head) == 0 &&
         t.compare(t.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> splitHeaderList(const std::string& value) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t comma = value.find(',', pos);
    if (comma == std::string::npos) comma = value.size();
    std::string item = lower(trim(value.substr(pos, comma - pos)));
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

Result<std::vector<CorsRule>> parseCors(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "CORSConfiguration");
  if (!root.ok()) return root.error();
  std::vector<CorsRule> rules;
  for (const XmlNode* r : root->all("CORSRule")) {
    CorsRule rule;
    rule.id = r->childText("ID");
    for (const XmlNode* n : r->all("AllowedOrigin")) rule.origins.push_back(n->text);
    for (const XmlNode* n : r->all("AllowedMethod")) {
      static const std::set<std::string> kMethods = {"GET", "PUT", "HEAD", "POST", "DELETE"};
      if (!kMethods.count(n->text)) {
        return s3Error(
            "InvalidRequest",
            "Found unsupported HTTP method in CORS config. Unsupported method is " + n->text);
      }
      rule.methods.push_back(n->text);
    }
    for (const XmlNode* n : r->all("AllowedHeader")) rule.headers.push_back(n->text);
    for (const XmlNode* n : r->all("ExposeHeader")) rule.expose.push_back(n->text);
    if (const XmlNode* age = r->child("MaxAgeSeconds")) {
      if (age->text.empty() || age->text.size() > 9 ||
          age->text.find_first_not_of("0123456789") != std::string::npos) {
        return malformedXmlError();
      }
      rule.max_age_seconds = std::atoi(age->text.c_str());
    }
    if (rule.origins.empty() || rule.methods.empty()) return malformedXmlError();
    for (const std::string& o : rule.origins) {
      if (std::count(o.begin(), o.end(), '*') > 1) {
        return s3Error("InvalidRequest",
                       "AllowedOrigin \"" + o + "\" can not have more than one wildcard.");
      }
    }
    rules.push_back(std::move(rule));
  }
  if (rules.empty() || rules.size() > kMaxCorsRules) return malformedXmlError();
  return rules;
}

std::string corsXml(const std::vector<CorsRule>& rules) {
  std::string out = xmlDocumentStart("CORSConfiguration");
  for (const CorsRule& r : rules) {
    out += "<CORSRule>";
    if (!r.id.empty()) out += xmlElement("ID", r.id);
    for (const std::string& h : r.headers) out += xmlElement("AllowedHeader", h);
    for (const std::string& m : r.methods) out += xmlElement("AllowedMethod", m);
    for (const std::string& o : r.origins) out += xmlElement("AllowedOrigin", o);
    for (const std::string& e : r.expose) out += xmlElement("ExposeHeader", e);
    if (r.max_age_seconds >= 0)
      out += xmlElement("MaxAgeSeconds", std::to_string(r.max_age_seconds));
    out += "</CORSRule>";
  }
  return out + xmlDocumentEnd("CORSConfiguration");
}

const CorsRule* matchCors(const std::vector<CorsRule>& rules, const std::string& origin,
                          const std::string& method,
                          const std::vector<std::string>& request_headers) {
  for (const CorsRule& rule : rules) {
    const bool origin_ok =
        std::any_of(rule.origins.begin(), rule.origins.end(),
                    [&](const std::string& o) { return wildcardMatch(o, origin, false); });
    if (!origin_ok) continue;
    if (std::find(rule.methods.begin(), rule.methods.end(), method) == rule.methods.end()) continue;
    const bool headers_ok =
        std::all_of(request_headers.begin(), request_headers.end(), [&](const std::string& h) {
          return std::any_of(rule.headers.begin(), rule.headers.end(),
                             [&](const std::string& a) { return wildcardMatch(a, h, true); });
        });
    if (headers_ok) return &rule;
  }
  return nullptr;
}

Result<std::string> cannedAcl(const std::string& value) {
  if (value == "private" || value == "bucket-owner-read" || value == "bucket-owner-full-control") {
    return std::string("private");
  }
  if (value == "public-read" || value == "authenticated-read") return value;
  if (value == "public-read-write" || value == "aws-exec-read" || value == "log-delivery-write") {
    return s3Error("NotImplemented", "The canned ACL " + value + " is not supported.");
  }
  return s3Error("InvalidArgument", "Invalid canned ACL: " + value);
}

Result<std::string> parseAccessControlPolicy(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "AccessControlPolicy");
  if (!root.ok()) return root.error();
  const XmlNode* list = root->child("AccessControlList");
  if (list == nullptr) return malformedXmlError();
  std::string canned = "private";
  bool owner_full = false;
  for (const XmlNode* grant : list->all("Grant")) {
    const XmlNode* grantee = grant->child("Grantee");
    const std::string permission = grant->childText("Permission");
    if (grantee == nullptr || permission.empty()) return malformedXmlError();
    const std::string uri = grantee->childText("URI");
    if (uri.empty() && permission == "FULL_CONTROL") {
      owner_full = true;  // the owner (the only canonical user a bucket here has)
    } else if (uri == kAllUsers && permission == "READ" && canned == "private") {
      canned = "public-read";
    } else if (uri == kAuthenticatedUsers && permission == "READ" && canned == "private") {
      canned = "authenticated-read";
    } else {
      return s3Error("NotImplemented",
                     "Only ACLs equivalent to the canned ACLs private, public-read and "
                     "authenticated-read are supported.");
    }
  }
  if (!owner_full) {
    return s3Error("NotImplemented", "The owner must keep FULL_CONTROL.");
  }
  return canned;
}

std::string accessControlPolicyXml(const std::string& owner_id, const std::string& owner_name,
                                   const std::string& canned) {
  const std::string owner = xmlElement("ID", owner_id) + xmlElement("DisplayName", owner_name);
  std::string out =
      xmlDocumentStart("AccessControlPolicy") + "<Owner>" + owner + "</Owner><AccessControlList>";
  out +=
      "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:type=\"CanonicalUser\">" +
      owner + "</Grantee>" + xmlElement("Permission", "FULL_CONTROL") + "</Grant>";
  const char* group = canned == "public-read"          ? kAllUsers
                      : canned == "authenticated-read" ? kAuthenticatedUsers
                                                       : nullptr;
  if (group != nullptr) {
    out +=
        "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:type=\"Group\">" +
        xmlElement("URI", group) + "</Grantee>" + xmlElement("Permission", "READ") + "</Grant>";
  }
  return out + "</AccessControlList>" + xmlDocumentEnd("AccessControlPolicy");
}

}  // namespace dcloud::gateway
