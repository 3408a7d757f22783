#include "common/random.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace dcloud {
namespace {

TEST(RandomTest, SeededRandomIsDeterministic) {
  SeededRandom a(42);
  SeededRandom b(42);
  SeededRandom c(43);
  const std::string first = a.hex(16);
  EXPECT_EQ(first, b.hex(16));
  EXPECT_NE(first, c.hex(16));
  EXPECT_NE(first, a.hex(16));  // the stream advances
}

TEST(RandomTest, HexAndUuidFormats) {
  const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string u = SecureRandom::instance().uuid();
    EXPECT_TRUE(std::regex_match(u, uuid_v4)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
  const std::string h = SecureRandom::instance().hex(16);
  EXPECT_EQ(h.size(), 32u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(SecureRandom::instance().hex(0), "");
}

}  // namespace
}  // namespace dcloud
