#pragma once
// S3 Object Lock rules, pure (no I/O): the bucket's ObjectLockConfiguration, a version's
// Retention and LegalHold bodies, and the decisions "may this version be removed now" and "may its
// retention be changed like this". Time is passed in (milliseconds on the gateway's clock).
//
// As in S3: a version under legal hold, or retained until a future time, cannot be removed (by
// version id) or overwritten. GOVERNANCE retention may be shortened or removed, and the version
// removed, only with x-amz-bypass-governance-retention by the bucket owner; COMPLIANCE retention
// can only be extended until it expires. Extending is always allowed.

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "storage-gateway/version_attributes.h"

namespace dcloud::gateway {

constexpr std::int64_t kMillisPerDay = 24LL * 3600 * 1000;

struct DefaultRetention {
  std::string mode;  // "GOVERNANCE" or "COMPLIANCE"
  int days = 0;      // exactly one of days and years is positive
  int years = 0;
};

struct ObjectLockConfig {
  std::optional<DefaultRetention> rule;
};

// <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>
// <Mode/><Days/>|<Years/></DefaultRetention></Rule></ObjectLockConfiguration>. MalformedXML on bad
// XML, both or neither of Days and Years, or a missing ObjectLockEnabled; InvalidArgument on a
// bad mode or a period that is not a positive number (at most 36500 days / 100 years).
Result<ObjectLockConfig> parseObjectLockConfig(const std::string& xml);
std::string objectLockConfigXml(const ObjectLockConfig& config);
// The retain-until time the default rule gives a version written at now_ms.
std::int64_t defaultRetainUntil(const DefaultRetention& rule, std::int64_t now_ms);

struct Retention {
  std::string mode;  // "GOVERNANCE" or "COMPLIANCE"; "" with until 0 removes retention
  std::int64_t retain_until_ms = 0;
};
// <Retention><Mode/><RetainUntilDate/></Retention>. MalformedXML / InvalidArgument.
Result<Retention> parseRetention(const std::string& xml);
std::string retentionXml(const VersionAttributes& attributes);
// <LegalHold><Status>ON|OFF</Status></LegalHold>.
Result<bool> parseLegalHold(const std::string& xml);
std::string legalHoldXml(bool on);

// "2030-01-01T00:00:00Z" or with fractions / an offset (ISO 8601); nullopt if not a date.
std::optional<std::int64_t> parseIsoDate(const std::string& text);

// Whether the retention still holds at now_ms.
bool retentionActive(const VersionAttributes& a, std::int64_t now_ms);
// Removing (or overwriting) a version: AccessDenied while on legal hold, under COMPLIANCE
// retention, or under GOVERNANCE retention without bypass.
Status checkRemovable(const VersionAttributes& a, std::int64_t now_ms, bool bypass_governance);
// Replacing a version's retention by next (mode "" = remove): allowed when nothing is active, when
// it extends the same or a stricter mode, or (GOVERNANCE) with bypass. AccessDenied otherwise;
// InvalidArgument for a retain-until date in the past.
Status checkRetentionChange(const VersionAttributes& current, const Retention& next,
                            std::int64_t now_ms, bool bypass_governance);

}  // namespace dcloud::gateway
