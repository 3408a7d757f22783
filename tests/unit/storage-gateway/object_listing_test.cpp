#include "storage-gateway/object_listing.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dcloud::gateway {
namespace {

// The objects of one bucket, listed like the metadata store lists them.
class FakeBucket {
 public:
  explicit FakeBucket(std::vector<std::string> keys) : keys_(std::move(keys)) {
    std::sort(keys_.begin(), keys_.end());
  }
  FetchObjects fetch(const std::string& prefix) {
    return [this, prefix](const std::string& from, bool inclusive, int limit) {
      ++queries;
      std::vector<ObjectRecord> out;
      for (const std::string& k : keys_) {
        if (static_cast<int>(out.size()) == limit) break;
        if (k.compare(0, prefix.size(), prefix) != 0) continue;
        if (inclusive ? k < from : k <= from) continue;
        ObjectRecord o;
        o.key = k;
        out.push_back(o);
      }
      return Result<std::vector<ObjectRecord>>(out);
    };
  }
  int queries = 0;

 private:
  std::vector<std::string> keys_;
};

std::vector<std::string> keysOf(const ListPage& page) {
  std::vector<std::string> out;
  for (const ObjectRecord& o : page.contents) out.push_back(o.key);
  return out;
}

using Strings = std::vector<std::string>;

TEST(ObjectListingTest, PlainListingPagesThroughEverything) {
  FakeBucket bucket({"a", "b", "c", "d", "e"});
  ListRequest req{"", "", {}, 2};
  Strings all;
  for (int page_no = 0; page_no < 10; ++page_no) {
    Result<ListPage> page = listPage(req, bucket.fetch(""), 2);
    ASSERT_TRUE(page.ok());
    for (const auto& k : keysOf(*page)) all.push_back(k);
    if (!page->truncated) break;
    req.cursor = page->next;
  }
  EXPECT_EQ(all, (Strings{"a", "b", "c", "d", "e"}));
}

TEST(ObjectListingTest, ExactPageIsNotTruncated) {
  FakeBucket bucket({"a", "b"});
  Result<ListPage> page = listPage({"", "", {}, 2}, bucket.fetch(""), 2);
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(keysOf(*page), (Strings{"a", "b"}));
}

TEST(ObjectListingTest, DelimiterRollsUpCommonPrefixes) {
  FakeBucket bucket({"photos/2023/a.jpg", "photos/2023/b.jpg", "photos/2024/c.jpg",
                     "photos/index.html", "photos0", "readme"});
  Result<ListPage> page = listPage({"photos/", "/", {}, 1000}, bucket.fetch("photos/"), 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keysOf(*page), (Strings{"photos/index.html"}));
  EXPECT_EQ(page->common_prefixes, (Strings{"photos/2023/", "photos/2024/"}));
  EXPECT_FALSE(page->truncated);

  Result<ListPage> top = listPage({"", "/", {}, 1000}, bucket.fetch(""), 1000);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(keysOf(*top), (Strings{"photos0", "readme"}));
  EXPECT_EQ(top->common_prefixes, (Strings{"photos/"}));
}

TEST(ObjectListingTest, CommonPrefixesCountTowardsMaxKeysAndResumeAfterThem) {
  FakeBucket bucket({"a/1", "a/2", "b/1", "c", "d/1"});
  ListRequest req{"", "/", {}, 2};
  Result<ListPage> first = listPage(req, bucket.fetch(""), 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->common_prefixes, (Strings{"a/", "b/"}));
  EXPECT_TRUE(first->truncated);
  req.cursor = first->next;
  Result<ListPage> second = listPage(req, bucket.fetch(""), 1000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(keysOf(*second), (Strings{"c"}));
  EXPECT_EQ(second->common_prefixes, (Strings{"d/"}));
  EXPECT_FALSE(second->truncated);
}

TEST(ObjectListingTest, SkipsACommonPrefixWithOneQuery) {
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back("big/" + std::to_string(i));
  keys.push_back("z");
  FakeBucket bucket(keys);
  Result<ListPage> page = listPage({"", "/", {}, 1000}, bucket.fetch(""), 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, (Strings{"big/"}));
  EXPECT_EQ(keysOf(*page), (Strings{"z"}));
  EXPECT_LE(bucket.queries, 3);
}

TEST(ObjectListingTest, StartAfterAndMaxKeysZero) {
  FakeBucket bucket({"a", "b", "c"});
  Result<ListPage> page = listPage({"", "", {"a", false}, 1000}, bucket.fetch(""), 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keysOf(*page), (Strings{"b", "c"}));
  Result<ListPage> none = listPage({"", "", {}, 0}, bucket.fetch(""), 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->contents.empty());
  EXPECT_FALSE(none->truncated);
}

TEST(ObjectListingTest, PrefixSuccessor) {
  EXPECT_EQ(prefixSuccessor("a/"), "a0");
  EXPECT_EQ(prefixSuccessor("x"), "y");
  EXPECT_EQ(prefixSuccessor("\xc3\xa9"), "\xc3\xaa");            // é -> ê
  EXPECT_EQ(prefixSuccessor("a\xed\x9f\xbf"), "a\xee\x80\x80");  // U+D7FF -> U+E000
  EXPECT_EQ(prefixSuccessor("a\xf4\x8f\xbf\xbf"), "b");          // U+10FFFF has no successor
  EXPECT_EQ(prefixSuccessor(""), "");
}

TEST(ObjectListingTest, ContinuationTokens) {
  for (const ListCursor& c : {ListCursor{"a/b c", false}, ListCursor{"x0", true}}) {
    Result<ListCursor> back = decodeContinuationToken(encodeContinuationToken(c));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->from, c.from);
    EXPECT_EQ(back->inclusive, c.inclusive);
  }
  EXPECT_FALSE(decodeContinuationToken("not base64!").ok());
  EXPECT_FALSE(decodeContinuationToken("aGVsbG8=").ok());  // "hello"
}

}  // namespace
}  // namespace dcloud::gateway
