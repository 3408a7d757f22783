// ListObjectVersions paging over an in-memory version table, and the DeleteObjects /
// VersioningConfiguration body parsers.
#include <gtest/gtest.h>

#include <algorithm>

#include "storage-gateway/s3_xml_bodies.h"
#include "storage-gateway/version_listing.h"

namespace dcloud::gateway {
namespace {

// Rows in listing order: key ascending, seq descending.
std::vector<ObjectRecord> table() {
  std::vector<ObjectRecord> rows;
  auto add = [&](const std::string& key, std::int64_t seq) {
    ObjectRecord o;
    o.key = key;
    o.seq = seq;
    o.version_id = key + "#" + std::to_string(seq);
    rows.push_back(o);
  };
  add("a", 3), add("a", 2), add("a", 1), add("d/x", 5), add("d/y", 4), add("e", 7), add("e", 6);
  return rows;
}

Result<std::vector<ObjectRecord>> fetch(const VersionCursor& c, int limit) {
  std::vector<ObjectRecord> out;
  for (const ObjectRecord& o : table()) {
    const bool after = c.after_seq ? (o.key > c.key || (o.key == c.key && o.seq < *c.after_seq))
                                   : (c.inclusive ? o.key >= c.key : o.key > c.key);
    if (after && static_cast<int>(out.size()) < limit) out.push_back(o);
  }
  return out;
}

TEST(VersionListingTest, PagesResumeInsideAKey) {
  std::vector<std::string> seen;
  VersionListRequest req;
  req.max_keys = 2;
  for (int page = 0; page < 10; ++page) {
    Result<VersionListPage> p = listVersionsPage(req, fetch, 3);
    ASSERT_TRUE(p.ok());
    for (const ObjectRecord& o : p->versions) seen.push_back(o.version_id);
    if (!p->truncated) break;
    req.cursor = {p->next_key_marker, false, std::nullopt};
    // The marker's seq, as the operation looks it up from the version id.
    for (const ObjectRecord& o : table()) {
      if (o.version_id == p->next_version_id_marker) req.cursor.after_seq = o.seq;
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a#3", "a#2", "a#1", "d/x#5", "d/y#4", "e#7", "e#6"}));
}

TEST(VersionListingTest, DelimiterRollsUpAndCountsPrefixesOnce) {
  VersionListRequest req;
  req.delimiter = "/";
  req.max_keys = 4;
  Result<VersionListPage> p = listVersionsPage(req, fetch, 2);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->versions.size(), 3u);
  EXPECT_EQ(p->common_prefixes, (std::vector<std::string>{"d/"}));
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->next_key_marker, "d/");
  EXPECT_EQ(p->next_version_id_marker, "");
}

TEST(S3XmlBodiesTest, DeleteObjectsBody) {
  Result<DeleteObjectsBody> body = parseDeleteObjects(
      "<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"
      "<Object><Key>c</Key><VersionId>v1</VersionId></Object></Delete>");
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_TRUE(body->quiet);
  ASSERT_EQ(body->objects.size(), 2u);
  EXPECT_EQ(body->objects[0].key, "a&b");
  EXPECT_FALSE(body->objects[0].version_id);
  EXPECT_EQ(body->objects[1].version_id, std::optional<std::string>("v1"));
  for (const std::string bad :
       {"", "<Delete>", "<Delete></Delete>", "<Other><Object><Key>k</Key></Object></Other>",
        "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        "<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>",
        "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key>"
        "</Object></Delete>"}) {
    Result<DeleteObjectsBody> r = parseDeleteObjects(bad);
    if (r.ok()) {
      // An external entity must never be expanded.
      EXPECT_EQ(r->objects[0].key.find("root"), std::string::npos) << bad;
    } else {
      EXPECT_EQ(r.error().reason, "MalformedXML") << bad;
    }
  }
  std::string many = "<Delete>";
  for (int i = 0; i < 1001; ++i) many += "<Object><Key>k</Key></Object>";
  EXPECT_FALSE(parseDeleteObjects(many + "</Delete>").ok());
}

TEST(S3XmlBodiesTest, VersioningStatus) {
  EXPECT_EQ(*parseVersioningStatus("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                                   "2006-03-01/\"><Status>Enabled</Status>"
                                   "</VersioningConfiguration>"),
            "Enabled");
  EXPECT_EQ(*parseVersioningStatus(
                "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"),
            "Suspended");
  EXPECT_FALSE(parseVersioningStatus("<VersioningConfiguration/>").ok());
  EXPECT_FALSE(parseVersioningStatus(
                   "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")
                   .ok());
}

}  // namespace
}  // namespace dcloud::gateway
