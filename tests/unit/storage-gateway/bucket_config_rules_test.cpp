// Pure Object Lock, lifecycle, tagging, CORS and ACL rules (object_lock.h, lifecycle_rules.h,
// bucket_config.h): parsing, limits and the decisions, with times passed in.
#include <gtest/gtest.h>

#include "storage-gateway/bucket_config.h"
#include "storage-gateway/lifecycle_rules.h"
#include "storage-gateway/object_lock.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr std::int64_t kDay = kMillisPerDay;
const std::int64_t kNow = *parseIsoDate("2030-06-15T12:00:00Z");

VersionAttributes locked(const std::string& mode, std::int64_t until, bool hold = false) {
  VersionAttributes a;
  a.lock_mode = mode;
  a.retain_until_ms = until;
  a.legal_hold = hold;
  return a;
}

std::string reason(const Status& s) {
  return s.ok() ? "ok" : s.error().reason;
}

TEST(ObjectLockRules, ParsesConfigurationWithDaysOrYears) {
  auto c = parseObjectLockConfig(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>3</Days></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->rule);
  EXPECT_EQ(c->rule->mode, "COMPLIANCE");
  EXPECT_EQ(defaultRetainUntil(*c->rule, kNow), kNow + 3 * kDay);
  auto round = parseObjectLockConfig(objectLockConfigXml(*c));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->rule->days, 3);

  auto years = parseObjectLockConfig(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>GOVERNANCE</Mode><Years>1</Years></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(years.ok());
  EXPECT_EQ(isoTimestamp(defaultRetainUntil(*years->rule, kNow)), "2031-06-15T12:00:00.000Z");

  auto no_rule = parseObjectLockConfig(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(no_rule.ok());
  EXPECT_FALSE(no_rule->rule);
}

TEST(ObjectLockRules, RejectsBadConfigurations) {
  const std::string head =
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention>";
  const std::string tail = "</DefaultRetention></Rule></ObjectLockConfiguration>";
  EXPECT_EQ(
      parseObjectLockConfig(head + "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>" + tail)
          .error()
          .reason,
      "MalformedXML");
  EXPECT_EQ(parseObjectLockConfig(head + "<Mode>GOVERNANCE</Mode>" + tail).error().reason,
            "MalformedXML");
  EXPECT_EQ(parseObjectLockConfig(head + "<Mode>STRICT</Mode><Days>1</Days>" + tail).error().reason,
            "InvalidArgument");
  EXPECT_EQ(
      parseObjectLockConfig(head + "<Mode>GOVERNANCE</Mode><Days>0</Days>" + tail).error().reason,
      "InvalidArgument");
  EXPECT_EQ(parseObjectLockConfig("<ObjectLockConfiguration/>").error().reason, "MalformedXML");
  EXPECT_EQ(parseObjectLockConfig("<not xml").error().reason, "MalformedXML");
}

TEST(ObjectLockRules, RemovalFollowsModeHoldAndTime) {
  const VersionAttributes none;
  EXPECT_EQ(reason(checkRemovable(none, kNow, false)), "ok");
  EXPECT_EQ(reason(checkRemovable(locked("GOVERNANCE", kNow + kDay), kNow, false)), "AccessDenied");
  EXPECT_EQ(reason(checkRemovable(locked("GOVERNANCE", kNow + kDay), kNow, true)), "ok");
  EXPECT_EQ(reason(checkRemovable(locked("COMPLIANCE", kNow + kDay), kNow, true)), "AccessDenied");
  // Expired retention protects nothing; a legal hold protects until released, bypass or not.
  EXPECT_EQ(reason(checkRemovable(locked("COMPLIANCE", kNow - 1), kNow, false)), "ok");
  EXPECT_EQ(reason(checkRemovable(locked("", 0, true), kNow, true)), "AccessDenied");
}

TEST(ObjectLockRules, RetentionChanges) {
  const VersionAttributes compliance = locked("COMPLIANCE", kNow + 10 * kDay);
  const VersionAttributes governance = locked("GOVERNANCE", kNow + 10 * kDay);
  auto change = [&](const VersionAttributes& a, const std::string& mode, std::int64_t until,
                    bool bypass) {
    return reason(checkRetentionChange(a, Retention{mode, until}, kNow, bypass));
  };
  EXPECT_EQ(change(compliance, "COMPLIANCE", kNow + 20 * kDay, false), "ok");
  EXPECT_EQ(change(compliance, "COMPLIANCE", kNow + 5 * kDay, true), "AccessDenied");
  EXPECT_EQ(change(compliance, "GOVERNANCE", kNow + 20 * kDay, true), "AccessDenied");
  EXPECT_EQ(change(compliance, "", 0, true), "AccessDenied");
  EXPECT_EQ(change(governance, "GOVERNANCE", kNow + 20 * kDay, false), "ok");
  EXPECT_EQ(change(governance, "COMPLIANCE", kNow + 20 * kDay, false), "ok");
  EXPECT_EQ(change(governance, "GOVERNANCE", kNow + 5 * kDay, false), "AccessDenied");
  EXPECT_EQ(change(governance, "GOVERNANCE", kNow + 5 * kDay, true), "ok");
  EXPECT_EQ(change(governance, "", 0, true), "ok");
  EXPECT_EQ(change(VersionAttributes{}, "COMPLIANCE", kNow - kDay, false), "InvalidArgument");
  // Once expired, COMPLIANCE no longer binds.
  EXPECT_EQ(reason(checkRetentionChange(compliance, Retention{"GOVERNANCE", kNow + 11 * kDay},
                                        kNow + 10 * kDay, false)),
            "ok");
}

TEST(ObjectLockRules, ParsesRetentionLegalHoldAndDates) {
  auto r = parseRetention(
      "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>GOVERNANCE</Mode>"
      "<RetainUntilDate>2030-01-02T03:04:05.678Z</RetainUntilDate></Retention>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(isoTimestamp(r->retain_until_ms), "2030-01-02T03:04:05.678Z");
  EXPECT_EQ(parseRetention("<Retention><Mode>X</Mode></Retention>").error().reason, "MalformedXML");
  EXPECT_EQ(*parseIsoDate("2030-01-02T05:04:05+02:00"), *parseIsoDate("2030-01-02T03:04:05Z"));
  EXPECT_FALSE(parseIsoDate("yesterday"));
  EXPECT_TRUE(*parseLegalHold("<LegalHold><Status>ON</Status></LegalHold>"));
  EXPECT_FALSE(*parseLegalHold("<LegalHold><Status>OFF</Status></LegalHold>"));
  EXPECT_FALSE(parseLegalHold("<LegalHold><Status>on</Status></LegalHold>").ok());
}

LifecycleConfig lifecycle(const std::string& rules) {
  auto c = parseLifecycle("<LifecycleConfiguration>" + rules + "</LifecycleConfiguration>");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : LifecycleConfig{};
}

TEST(LifecycleRules, ParsesAndRoundTrips) {
  LifecycleConfig c = lifecycle(
      "<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
      "<Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7"
      "</NoncurrentDays></NoncurrentVersionExpiration><AbortIncompleteMultipartUpload>"
      "<DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
      "<Rule><Filter/><Status>Disabled</Status><Expiration><Date>2031-01-01T00:00:00Z</Date>"
      "</Expiration></Rule>");
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(c.rules[0].prefix, "logs/");
  EXPECT_EQ(*c.rules[0].expiration_days, 30);
  EXPECT_EQ(*c.rules[0].noncurrent_days, 7);
  EXPECT_EQ(*c.rules[0].abort_incomplete_days, 2);
  EXPECT_FALSE(c.rules[1].enabled);
  auto again = parseLifecycle(lifecycleXml(c));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(lifecycleXml(*again), lifecycleXml(c));
}

TEST(LifecycleRules, RejectsBadConfigurations) {
  auto bad = [](const std::string& rule) {
    auto c = parseLifecycle("<LifecycleConfiguration>" + rule + "</LifecycleConfiguration>");
    return c.ok() ? std::string("ok") : c.error().reason;
  };
  EXPECT_EQ(bad(""), "MalformedXML");
  EXPECT_EQ(bad("<Rule><Filter/><Expiration><Days>1</Days></Expiration></Rule>"), "MalformedXML");
  EXPECT_EQ(bad("<Rule><Filter/><Status>Enabled</Status></Rule>"), "InvalidRequest");
  EXPECT_EQ(bad("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>"
                "</Rule>"),
            "InvalidArgument");
  EXPECT_EQ(bad("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>"
                "2031-01-01T00:00:00Z</Date></Expiration></Rule>"),
            "MalformedXML");
  EXPECT_EQ(bad("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2031-01-01T10:00:00Z"
                "</Date></Expiration></Rule>"),
            "InvalidArgument");
  EXPECT_EQ(bad("<Rule><Prefix>a</Prefix><Filter/><Status>Enabled</Status><Expiration><Days>1"
                "</Days></Expiration></Rule>"),
            "MalformedXML");
  EXPECT_EQ(bad("<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days>"
                "</Expiration></Rule><Rule><ID>x</ID><Filter/><Status>Enabled</Status>"
                "<Expiration><Days>2</Days></Expiration></Rule>"),
            "InvalidArgument");
  EXPECT_EQ(bad("<Rule><Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled"
                "</Status><Expiration><Days>1</Days></Expiration></Rule>"),
            "NotImplemented");
}

TEST(LifecycleRules, DeadlinesRoundUpToMidnightUtc) {
  const std::int64_t midnight = *parseIsoDate("2030-06-15T00:00:00Z");
  EXPECT_EQ(lifecycleDeadline(midnight, 1), midnight + kDay);
  EXPECT_EQ(lifecycleDeadline(midnight + 1, 1), midnight + 2 * kDay);
  EXPECT_EQ(lifecycleDeadline(kNow, 2), midnight + 3 * kDay);
}

TEST(LifecycleRules, PlansExpirationsPerKey) {
  LifecycleConfig c = lifecycle(
      "<Rule><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1"
      "</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays>"
      "</NoncurrentVersionExpiration></Rule>"
      "<Rule><Filter><Prefix>gone/</Prefix></Filter><Status>Enabled</Status><Expiration>"
      "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
      "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
      "</NoncurrentVersionExpiration></Rule>");
  const std::int64_t t0 = *parseIsoDate("2030-06-10T08:00:00Z");
  // Written at t0, replaced at t0 + 3 days: the old version is noncurrent from then on.
  std::vector<LifecycleVersion> versions = {{"v2", false, t0 + 3 * kDay}, {"v1", false, t0}};
  KeyActions early = planKeyActions(c, "tmp/a", versions, t0 + 3 * kDay + 1000);
  EXPECT_FALSE(early.expire_current);
  EXPECT_TRUE(early.remove_versions.empty());
  KeyActions later = planKeyActions(c, "tmp/a", versions, t0 + 6 * kDay);
  EXPECT_TRUE(later.expire_current);
  EXPECT_EQ(later.remove_versions, std::vector<std::string>{"v1"});
  // Other prefixes are untouched; a delete marker is not expired again.
  EXPECT_FALSE(planKeyActions(c, "keep/a", versions, t0 + 100 * kDay).expire_current);
  KeyActions marker =
      planKeyActions(c, "tmp/a", {{"m", true, t0 + 4 * kDay}, {"v1", false, t0}}, t0 + 30 * kDay);
  EXPECT_FALSE(marker.expire_current);
  EXPECT_EQ(marker.remove_versions, std::vector<std::string>{"v1"});
  // A marker left alone is removed after its older versions under ExpiredObjectDeleteMarker.
  KeyActions lone =
      planKeyActions(c, "gone/a", {{"m", true, t0 + 4 * kDay}, {"v1", false, t0}}, t0 + 30 * kDay);
  EXPECT_EQ(lone.remove_versions, (std::vector<std::string>{"v1", "m"}));
  EXPECT_TRUE(shouldAbortUpload(c, "tmp/x", t0, t0 + 2 * kDay) == false);
}

TEST(LifecycleRules, AbortsOldUploadsAndHonoursDates) {
  LifecycleConfig c = lifecycle(
      "<Rule><Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload>"
      "<DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
      "<Rule><Prefix>d/</Prefix><Status>Enabled</Status><Expiration><Date>2030-07-01T00:00:00Z"
      "</Date></Expiration></Rule>");
  // Started at noon: due at the second midnight after.
  EXPECT_FALSE(shouldAbortUpload(c, "a", kNow, kNow + kDay));
  EXPECT_TRUE(shouldAbortUpload(c, "a", kNow, kNow + kDay + kDay / 2));
  std::vector<LifecycleVersion> v = {{"null", false, kNow}};
  EXPECT_FALSE(planKeyActions(c, "d/x", v, *parseIsoDate("2030-06-30T23:59:59Z")).expire_current);
  EXPECT_TRUE(planKeyActions(c, "d/x", v, *parseIsoDate("2030-07-01T00:00:00Z")).expire_current);
}

TEST(TaggingRules, LimitsAsS3) {
  EXPECT_TRUE(parseTaggingHeader("a=1&b=two%20words").ok());
  EXPECT_EQ((*parseTaggingHeader("a=1&b=two%20words"))[1].second, "two words");
  std::string eleven;
  for (int i = 0; i < 11; ++i) eleven += (i ? "&k" : "k") + std::to_string(i) + "=v";
  EXPECT_EQ(parseTaggingHeader(eleven).error().reason, "InvalidTag");
  EXPECT_EQ(parseTaggingHeader(std::string(129, 'k') + "=v").error().reason, "InvalidTag");
  EXPECT_TRUE(parseTaggingHeader(std::string(128, 'k') + "=" + std::string(256, 'v')).ok());
  EXPECT_EQ(parseTaggingHeader("k=" + std::string(257, 'v')).error().reason, "InvalidTag");
  EXPECT_EQ(parseTaggingHeader("k=1&k=2").error().reason, "InvalidTag");
  EXPECT_EQ(parseTaggingHeader("aws:x=1").error().reason, "InvalidTag");
  auto tags = parseTagging(taggingXml({{"x", "1"}, {"y", "<&>"}}), kMaxObjectTags);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ((*tags)[1].second, "<&>");
}

TEST(CorsRules, MatchesOriginsMethodsAndHeaders) {
  auto rules = parseCors(
      "<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>"
      "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
      "<AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>"
      "<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin>"
      "<AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  const auto* r = matchCors(*rules, "https://app.example.com", "PUT",
                            splitHeaderList("Content-Type, X-Amz-Date"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->max_age_seconds, 600);
  EXPECT_EQ(matchCors(*rules, "https://evil.com", "PUT", {}), nullptr);
  EXPECT_EQ(matchCors(*rules, "https://app.example.com", "DELETE", {}), nullptr);
  EXPECT_EQ(matchCors(*rules, "https://app.example.com", "GET", {"authorization"}), nullptr);
  EXPECT_EQ(matchCors(*rules, "https://evil.com", "HEAD", {}), &(*rules)[1]);
  EXPECT_EQ(parseCors("<CORSConfiguration/>").error().reason, "MalformedXML");
  EXPECT_EQ(parseCors("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                      "<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>")
                .error()
                .reason,
            "InvalidRequest");
  auto again = parseCors(corsXml(*rules));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(corsXml(*again), corsXml(*rules));
}

TEST(AclRules, CannedAndPolicies) {
  EXPECT_EQ(*cannedAcl("public-read"), "public-read");
  EXPECT_EQ(*cannedAcl("bucket-owner-full-control"), "private");
  EXPECT_EQ(cannedAcl("public-read-write").error().reason, "NotImplemented");
  EXPECT_EQ(cannedAcl("everyone").error().reason, "InvalidArgument");
  for (const char* canned : {"private", "public-read", "authenticated-read"}) {
    auto parsed = parseAccessControlPolicy(accessControlPolicyXml("owner", "Owner", canned));
    ASSERT_TRUE(parsed.ok()) << canned;
    EXPECT_EQ(*parsed, canned);
  }
}

}  // namespace
}  // namespace dcloud::gateway
