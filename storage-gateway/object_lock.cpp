#include "storage-gateway/object_lock.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>

#include <cstdlib>

#include "storage-gateway/config_xml.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr int kMaxDays = 36500;
constexpr int kMaxYears = 100;

bool validMode(const std::string& mode) {
  return mode == "GOVERNANCE" || mode == "COMPLIANCE";
}

// A positive decimal number of at most max; nullopt otherwise.
std::optional<int> positive(const std::string& text, int max) {
  if (text.empty() || text.size() > 6 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int v = std::atoi(text.c_str());
  if (v <= 0 || v > max) return std::nullopt;
  return v;
}

Error accessDenied(const std::string& why) {
  return s3Error("AccessDenied", "Access Denied because object protected by object lock: " + why);
}

}  // namespace

Result<ObjectLockConfig> parseObjectLockConfig(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "ObjectLockConfiguration");
  if (!root.ok()) return root.error();
  if (root->childText("ObjectLockEnabled") != "Enabled") return malformedXmlError();
  ObjectLockConfig config;
  const XmlNode* rule = root->child("Rule");
  if (rule == nullptr) return config;
  const XmlNode* def = rule->child("DefaultRetention");
  if (def == nullptr) return malformedXmlError();
  const XmlNode* days = def->child("Days");
  const XmlNode* years = def->child("Years");
  if ((days == nullptr) == (years == nullptr)) return malformedXmlError();
  DefaultRetention r;
  r.mode = def->childText("Mode");
  if (!validMode(r.mode)) {
    return s3Error("InvalidArgument", "Default retention mode must be GOVERNANCE or COMPLIANCE.");
  }
  if (days != nullptr) {
    std::optional<int> d = positive(days->text, kMaxDays);
    if (!d)
      return s3Error("InvalidArgument",
                     "Default retention period must be a positive integer value.");
    r.days = *d;
  } else {
    std::optional<int> y = positive(years->text, kMaxYears);
    if (!y)
      return s3Error("InvalidArgument",
                     "Default retention period must be a positive integer value.");
    r.years = *y;
  }
  config.rule = r;
  return config;
}

std::string objectLockConfigXml(const ObjectLockConfig& config) {
  std::string out = xmlDocumentStart("ObjectLockConfiguration");
  out += xmlElement("ObjectLockEnabled", "Enabled");
  if (config.rule) {
    out += "<Rule><DefaultRetention>" + xmlElement("Mode", config.rule->mode);
    if (config.rule->days > 0) out += xmlElement("Days", std::to_string(config.rule->days));
    if (config.rule->years > 0) out += xmlElement("Years", std::to_string(config.rule->years));
    out += "</DefaultRetention></Rule>";
  }
  return out + xmlDocumentEnd("ObjectLockConfiguration");
}

std::int64_t defaultRetainUntil(const DefaultRetention& rule, std::int64_t now_ms) {
  if (rule.days > 0) return now_ms + rule.days * kMillisPerDay;
  // Calendar years, as S3 counts them (a leap day is a day longer).
  Poco::DateTime t(Poco::Timestamp(now_ms * 1000));
  const int year = t.year() + rule.years;
  int day = t.day();
  if (t.month() == 2 && day == 29 && !Poco::DateTime::isLeapYear(year)) day = 28;
  Poco::DateTime later(year, t.month(), day, t.hour(), t.minute(), t.second(), t.millisecond());
  return later.timestamp().epochMicroseconds() / 1000;
}

std::optional<std::int64_t> parseIsoDate(const std::string& text) {
  if (text.size() < 10 || text.size() > 40) return std::nullopt;
  Poco::DateTime dt;
  int tzd = 0;
  try {
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, text, dt, tzd) &&
        !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, text, dt, tzd)) {
      return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return dt.timestamp().epochMicroseconds() / 1000 - static_cast<std::int64_t>(tzd) * 1000;
}

Result<Retention> parseRetention(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "Retention");
  if (!root.ok()) return root.error();
  Retention r;
  r.mode = root->childText("Mode");
  const std::string until = root->childText("RetainUntilDate");
  if (r.mode.empty() && until.empty()) return r;  // removes the retention
  if (!validMode(r.mode)) {
    return s3Error("MalformedXML", "Retention mode must be GOVERNANCE or COMPLIANCE.");
  }
  std::optional<std::int64_t> t = parseIsoDate(until);
  if (!t) return s3Error("InvalidArgument", "The retain until date is not a valid date.");
  r.retain_until_ms = *t;
  return r;
}

std::string retentionXml(const VersionAttributes& a) {
  return xmlDocumentStart("Retention") + xmlElement("Mode", a.lock_mode) +
         xmlElement("RetainUntilDate", isoTimestamp(a.retain_until_ms)) +
         xmlDocumentEnd("Retention");
}

Result<bool> parseLegalHold(const std::string& xml) {
  Result<XmlNode> root = parseConfigXml(xml, "LegalHold");
  if (!root.ok()) return root.error();
  const std::string status = root->childText("Status");
  if (status == "ON") return true;
  if (status == "OFF") return false;
  return malformedXmlError();
}

std::string legalHoldXml(bool on) {
  return xmlDocumentStart("LegalHold") + xmlElement("Status", on ? "ON" : "OFF") +
         xmlDocumentEnd("LegalHold");
}

bool retentionActive(const VersionAttributes& a, std::int64_t now_ms) {
  return !a.lock_mode.empty() && a.retain_until_ms > now_ms;
}

Status checkRemovable(const VersionAttributes& a, std::int64_t now_ms, bool bypass_governance) {
  if (a.legal_hold) return accessDenied("the version is under legal hold");
  if (!retentionActive(a, now_ms)) return okStatus();
  if (a.lock_mode == "COMPLIANCE") return accessDenied("COMPLIANCE retention");
  if (!bypass_governance) return accessDenied("GOVERNANCE retention");
  return okStatus();
}

Status checkRetentionChange(const VersionAttributes& current, const Retention& next,
                            std::int64_t now_ms, bool bypass_governance) {
  if (!next.mode.empty() && next.retain_until_ms <= now_ms) {
    return s3Error("InvalidArgument", "The retain until date must be in the future!");
  }
  if (!retentionActive(current, now_ms)) return okStatus();
  const bool keeps_or_extends =
      !next.mode.empty() && next.retain_until_ms >= current.retain_until_ms;
  if (current.lock_mode == "COMPLIANCE") {
    if (keeps_or_extends && next.mode == "COMPLIANCE") return okStatus();
    return accessDenied("COMPLIANCE retention can only be extended");
  }
  // GOVERNANCE: extending, or making it COMPLIANCE, needs no bypass.
  if (keeps_or_extends) return okStatus();
  if (bypass_governance) return okStatus();
  return accessDenied("GOVERNANCE retention");
}

}  // namespace dcloud::gateway
