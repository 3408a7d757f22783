#include "common/money.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace dcloud {
namespace {

TEST(MoneyTest, FormatsWithTrimmedDecimals) {
  EXPECT_EQ(formatMicros(0), "0.0");
  EXPECT_EQ(formatMicros(1), "0.000001");
  EXPECT_EQ(formatMicros(1'500'000), "1.5");
  EXPECT_EQ(formatMicros(3 * kMicrosPerCredit), "3.0");
  EXPECT_EQ(formatMicros(12'345'678), "12.345678");
  EXPECT_EQ(formatMicros(10'000'010), "10.00001");
  EXPECT_EQ(formatMicros(-2'250'000), "-2.25");
  EXPECT_EQ(formatMicros(std::numeric_limits<Micros>::max()), "9223372036854.775807");
  EXPECT_EQ(formatMicros(std::numeric_limits<Micros>::min()), "-9223372036854.775808");
}

TEST(MoneyTest, ParsesDecimals) {
  struct Case {
    const char* text;
    Micros micros;
  };
  for (const Case& c :
       {Case{"0", 0}, Case{"12", 12'000'000}, Case{"0.5", 500'000}, Case{"3.000001", 3'000'001},
        Case{"1.000000", 1'000'000}, Case{".25", 250'000}, Case{"007.1", 7'100'000}}) {
    auto r = parseMicros(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().toString();
    EXPECT_EQ(*r, c.micros) << c.text;
  }
}

TEST(MoneyTest, FormatThenParseRoundTrips) {
  for (Micros m : {Micros{0}, Micros{1}, Micros{999'999}, Micros{1'000'000}, Micros{123'456'789},
                   Micros{42'000'000'000}, Micros{9'223'372'036'853'999'999}}) {
    auto r = parseMicros(formatMicros(m));
    ASSERT_TRUE(r.ok()) << formatMicros(m) << ": " << r.error().toString();
    EXPECT_EQ(*r, m);
  }
}

TEST(MoneyTest, ParseThenFormatIsCanonical) {
  EXPECT_EQ(formatMicros(*parseMicros("1.50")), "1.5");
  EXPECT_EQ(formatMicros(*parseMicros("12")), "12.0");
}

TEST(MoneyTest, RejectsMalformedAmounts) {
  for (const char* text : {"", "-1", "-0.5", "+1", "1.0000001", "0.1234567", "abc", "1a", "1e6",
                           "0x10", " 1", "1 ", ".", "1.2.3", "1,5", "١"}) {
    auto r = parseMicros(text);
    ASSERT_FALSE(r.ok()) << "accepted '" << text << "' as " << *r;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
  }
}

TEST(MoneyTest, RejectsOverflow) {
  for (const char* text : {"9223372036855", "9223372036854775807", "99999999999999999999999",
                           "100000000000000000000.5"}) {
    auto r = parseMicros(text);
    ASSERT_FALSE(r.ok()) << "accepted '" << text << "' as " << *r;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace dcloud
