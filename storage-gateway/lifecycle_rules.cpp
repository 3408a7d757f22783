#include "storage-gateway/lifecycle_rules.h"

#include <cstdlib>
#include <set>

#include "storage-gateway/config_xml.h"
#include "storage-gateway/object_lock.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::size_t kMaxRuleIdBytes = 255;
constexpr int kMaxDays = 1000000;

Result<int> positiveDays(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 7 ||
      text.find_first_not_of("0123456789") != std::string::npos || std::atoi(text.c_str()) <= 0 ||
      std::atoi(text.c_str()) > kMaxDays) {
    return s3Error("InvalidArgument", "'" + what + "' for lifecycle must be a positive integer");
  }
  return std::atoi(text.c_str());
}

bool applies(const LifecycleRule& rule, const std::string& key) {
  return rule.enabled && key.compare(0, rule.prefix.size(), rule.prefix) == 0;
}

Result<LifecycleRule> parseRule(const XmlNode& r) {
  LifecycleRule rule;
  rule.id = r.childText("ID");
  if (rule.id.size() > kMaxRuleIdBytes) {
    return s3Error("InvalidArgument", "ID length should not exceed allowed limit of 255");
  }
  const std::string status = r.childText("Status");
  if (status != "Enabled" && status != "Disabled") return malformedXmlError();
  rule.enabled = status == "Enabled";
  const XmlNode* filter = r.child("Filter");
  const XmlNode* prefix = r.child("Prefix");
  if (filter != nullptr && prefix != nullptr) return malformedXmlError();
  if (prefix != nullptr) rule.prefix = prefix->text;
  if (filter != nullptr) {
    for (const XmlNode& f : filter->children) {
      if (f.name == "Prefix") {
        rule.prefix = f.text;
      } else if (f.name == "Tag" || f.name == "And" || f.name == "ObjectSizeGreaterThan" ||
                 f.name == "ObjectSizeLessThan") {
        return s3Error("NotImplemented", "Lifecycle filters on tags or sizes are not supported.");
      } else {
        return malformedXmlError();
      }
    }
  }
  if (r.child("Transition") != nullptr || r.child("NoncurrentVersionTransition") != nullptr) {
    return s3Error("NotImplemented",
                   "Lifecycle transitions are not supported (one storage class).");
  }
  bool action = false;
  if (const XmlNode* e = r.child("Expiration")) {
    const XmlNode* days = e->child("Days");
    const XmlNode* date = e->child("Date");
    const XmlNode* marker = e->child("ExpiredObjectDeleteMarker");
    if ((days != nullptr) + (date != nullptr) + (marker != nullptr) != 1)
      return malformedXmlError();
    if (days != nullptr) {
      Result<int> d = positiveDays(days->text, "Days");
      if (!d.ok()) return d.error();
      rule.expiration_days = *d;
    } else if (date != nullptr) {
      std::optional<std::int64_t> t = parseIsoDate(date->text);
      if (!t) return s3Error("InvalidArgument", "Invalid Date for lifecycle Expiration.");
      if (*t % kMillisPerDay != 0) {
        return s3Error("InvalidArgument", "'Date' must be at midnight GMT");
      }
      rule.expiration_date_ms = *t;
    } else {
      if (marker->text != "true" && marker->text != "false") return malformedXmlError();
      rule.expired_object_delete_marker = marker->text == "true";
    }
    action = true;
  }
  if (const XmlNode* n = r.child("NoncurrentVersionExpiration")) {
    Result<int> d = positiveDays(n->childText("NoncurrentDays"), "NoncurrentDays");
    if (!d.ok()) return d.error();
    rule.noncurrent_days = *d;
    action = true;
  }
  if (const XmlNode* a = r.child("AbortIncompleteMultipartUpload")) {
    Result<int> d = positiveDays(a->childText("DaysAfterInitiation"), "DaysAfterInitiation");
    if (!d.ok()) return d.error();
    rule.abort_incomplete_days = *d;
    action = true;
  }
  if (!action) {
    return s3Error("InvalidRequest", "At least one action needs to be specified in a rule");
  }
  return rule;
}

}  // namespace

Result<LifecycleConfig> parseLifecycle(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "LifecycleConfiguration");
  if (!root.ok()) return root.error();
  LifecycleConfig config;
  std::set<std::string> ids;
  for (const XmlNode& r : root->children) {
    if (r.name != "Rule") return malformedXmlError();
    Result<LifecycleRule> rule = parseRule(r);
    if (!rule.ok()) return rule.error();
    if (!rule->id.empty() && !ids.insert(rule->id).second) {
      return s3Error("InvalidArgument",
                     "Rule ID must be unique. Found same ID for more than one rule");
    }
    config.rules.push_back(std::move(*rule));
  }
  if (config.rules.empty() || config.rules.size() > kMaxLifecycleRules) return malformedXmlError();
  return config;
}

std::string lifecycleXml(const LifecycleConfig& config) {
  std::string out = xmlDocumentStart("LifecycleConfiguration");
  for (const LifecycleRule& r : config.rules) {
    out += "<Rule>";
    if (!r.id.empty()) out += xmlElement("ID", r.id);
    out += "<Filter>" + (r.prefix.empty() ? std::string() : xmlElement("Prefix", r.prefix)) +
           "</Filter>";
    out += xmlElement("Status", r.enabled ? "Enabled" : "Disabled");
    if (r.expiration_days) {
      out +=
          "<Expiration>" + xmlElement("Days", std::to_string(*r.expiration_days)) + "</Expiration>";
    } else if (r.expiration_date_ms) {
      out += "<Expiration>" + xmlElement("Date", isoTimestamp(*r.expiration_date_ms)) +
             "</Expiration>";
    } else if (r.expired_object_delete_marker) {
      out += "<Expiration>" + xmlElement("ExpiredObjectDeleteMarker", "true") + "</Expiration>";
    }
    if (r.noncurrent_days) {
      out += "<NoncurrentVersionExpiration>" +
             xmlElement("NoncurrentDays", std::to_string(*r.noncurrent_days)) +
             "</NoncurrentVersionExpiration>";
    }
    if (r.abort_incomplete_days) {
      out += "<AbortIncompleteMultipartUpload>" +
             xmlElement("DaysAfterInitiation", std::to_string(*r.abort_incomplete_days)) +
             "</AbortIncompleteMultipartUpload>";
    }
    out += "</Rule>";
  }
  return out + xmlDocumentEnd("LifecycleConfiguration");
}

std::int64_t lifecycleDeadline(std::int64_t since_ms, int days) {
  const std::int64_t t = since_ms + days * kMillisPerDay;
  const std::int64_t rem = ((t % kMillisPerDay) + kMillisPerDay) % kMillisPerDay;
  return rem == 0 ? t : t + (kMillisPerDay - rem);
}

KeyActions planKeyActions(const LifecycleConfig& config, const std::string& key,
                          const std::vector<LifecycleVersion>& versions, std::int64_t now_ms) {
  KeyActions out;
  if (versions.empty()) return out;
  const LifecycleVersion& latest = versions[0];
  for (const LifecycleRule& rule : config.rules) {
    if (!applies(rule, key)) continue;
    if (!latest.delete_marker && !out.expire_current) {
      if ((rule.expiration_days &&
           now_ms >= lifecycleDeadline(latest.last_modified_ms, *rule.expiration_days)) ||
          (rule.expiration_date_ms && now_ms >= *rule.expiration_date_ms)) {
        out.expire_current = true;
      }
    }
  }
  for (std::size_t i = 1; i < versions.size(); ++i) {
    const std::int64_t noncurrent_since = versions[i - 1].last_modified_ms;
    for (const LifecycleRule& rule : config.rules) {
      if (applies(rule, key) && rule.noncurrent_days &&
          now_ms >= lifecycleDeadline(noncurrent_since, *rule.noncurrent_days)) {
        out.remove_versions.push_back(versions[i].version_id);
        break;
      }
    }
  }
  // A delete marker that is all that is left of a key (its older versions expired or are about
  // to) is removed when a rule asks for it.
  if (latest.delete_marker && out.remove_versions.size() + 1 == versions.size()) {
    for (const LifecycleRule& rule : config.rules) {
      if (applies(rule, key) && rule.expired_object_delete_marker) {
        out.remove_versions.push_back(latest.version_id);
        break;
      }
    }
  }
  return out;
}

bool shouldAbortUpload(const LifecycleConfig& config, const std::string& key,
                       std::int64_t initiated_ms, std::int64_t now_ms) {
  for (const LifecycleRule& rule : config.rules) {
    if (applies(rule, key) && rule.abort_incomplete_days &&
        now_ms >= lifecycleDeadline(initiated_ms, *rule.abort_incomplete_days)) {
      return true;
    }
  }
  return false;
}

}  // namespace dcloud::gateway
