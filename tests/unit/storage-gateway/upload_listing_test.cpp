#include "storage-gateway/upload_listing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

namespace dcloud::gateway {
namespace {

// Uploads of one bucket as (key, upload id), listed like the metadata store lists them.
class FakeUploads {
 public:
  explicit FakeUploads(std::vector<std::pair<std::string, std::string>> uploads)
      : uploads_(std::move(uploads)) {
    std::sort(uploads_.begin(), uploads_.end());
  }
  FetchUploads fetch(const std::string& prefix) {
    return [this, prefix](const std::string& key, const std::string& upload, int limit) {
      std::vector<MultipartUploadRecord> out;
      for (const auto& [k, u] : uploads_) {
        if (static_cast<int>(out.size()) == limit) break;
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        if (std::make_pair(k, u) <= std::make_pair(key, upload)) continue;
        MultipartUploadRecord r;
        r.key = k;
        r.upload_id = u;
        out.push_back(r);
      }
      return Result<std::vector<MultipartUploadRecord>>(out);
    };
  }

 private:
  std::vector<std::pair<std::string, std::string>> uploads_;
};

std::vector<std::string> entries(const UploadListPage& page) {
  std::vector<std::string> out;
  for (const auto& u : page.uploads) out.push_back(u.key + "#" + u.upload_id);
  for (const auto& p : page.common_prefixes) out.push_back(p);
  return out;
}

const FakeUploads kUploads({{"a", "01"},
                            {"a", "02"},
                            {"b/1", "03"},
                            {"b/2", "04"},
                            {"c", "05"},
                            {"c", "06"},
                            {"c", "07"}});

TEST(UploadListingTest, PagesByKeyThenUploadIdWithBothMarkers) {
  FakeUploads uploads = kUploads;
  UploadListRequest req;
  req.max_uploads = 3;
  std::vector<std::string> seen;
  for (int guard = 0; guard < 10; ++guard) {
    Result<UploadListPage> page = listUploadsPage(req, uploads.fetch(""), 2);
    ASSERT_TRUE(page.ok());
    for (const std::string& e : entries(*page)) seen.push_back(e);
    if (!page->truncated) break;
    req.key_marker = page->next_key_marker;
    req.upload_id_marker = page->next_upload_id_marker;
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"a#01", "a#02", "b/1#03", "b/2#04", "c#05", "c#06", "c#07"}));
}

TEST(UploadListingTest, AKeyMarkerAloneSkipsAllUploadsOfThatKey) {
  FakeUploads uploads = kUploads;
  UploadListRequest req;
  req.key_marker = "a";
  Result<UploadListPage> page = listUploadsPage(req, uploads.fetch(""));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(entries(*page).front(), "b/1#03");
  req.upload_id_marker = "01";
  page = listUploadsPage(req, uploads.fetch(""));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(entries(*page).front(), "a#02");
}

TEST(UploadListingTest, DelimiterRollsUpKeysIntoOnePrefixThatCountsOnce) {
  FakeUploads uploads = kUploads;
  UploadListRequest req;
  req.delimiter = "/";
  req.max_uploads = 3;
  Result<UploadListPage> page = listUploadsPage(req, uploads.fetch(""));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(entries(*page), (std::vector<std::string>{"a#01", "a#02", "b/"}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_key_marker, "b/");
  EXPECT_EQ(page->next_upload_id_marker, "");
  req.key_marker = page->next_key_marker;
  req.upload_id_marker = page->next_upload_id_marker;
  page = listUploadsPage(req, uploads.fetch(""));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(entries(*page), (std::vector<std::string>{"c#05", "c#06", "c#07"}));
  EXPECT_FALSE(page->truncated);
}

TEST(UploadListingTest, PrefixLimitsTheListing) {
  FakeUploads uploads = kUploads;
  UploadListRequest req;
  req.prefix = "b/";
  Result<UploadListPage> page = listUploadsPage(req, uploads.fetch("b/"));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(entries(*page), (std::vector<std::string>{"b/1#03", "b/2#04"}));
}

TEST(UploadListingTest, ZeroMaxUploadsReturnsNothingButSaysTruncated) {
  FakeUploads uploads = kUploads;
  UploadListRequest req;
  req.max_uploads = 0;
  Result<UploadListPage> page = listUploadsPage(req, uploads.fetch(""));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(entries(*page).empty());
  EXPECT_TRUE(page->truncated);
}

}  // namespace
}  // namespace dcloud::gateway
