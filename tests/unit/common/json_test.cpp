#include "common/json.h"

#include <gtest/gtest.h>

#include <string>

namespace dcloud {
namespace {

JsonObject parse(const std::string& text) {
  auto r = parseJsonObject(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().toString());
  return r.ok() ? *r : JsonObject(new Poco::JSON::Object);
}

void expectInvalid(const Status& s) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

template <typename T>
void expectInvalid(const Result<T>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(JsonTest, ParsesObjects) {
  JsonObject o = parse(R"({"name": "render", "frames": 240, "tags": ["a", "b"], "x": null})");
  EXPECT_EQ(*getString(o, "name"), "render");
  EXPECT_EQ(*getInt(o, "frames"), 240);
  EXPECT_EQ(**getOptionalStringList(o, "tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(getOptionalString(o, "x")->has_value());
}

TEST(JsonTest, RejectsNonObjectsAndMalformedText) {
  for (const char* text :
       {"", " ", "[1, 2]", "\"s\"", "42", "null", "{", "{\"a\": }", "{\"a\" 1}", "{'a': 1}",
        "{\"a\": 1,}", "{\"a\": 1} {", "{\"a\": 1} x", "{\"a\": tru}", "{\"a\": 01x}"}) {
    SCOPED_TRACE(text);
    expectInvalid(parseJsonObject(text));
  }
}

TEST(JsonTest, RefusesDeepNesting) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
  };
  EXPECT_TRUE(parseJsonObject(nested(20)).ok());
  expectInvalid(parseJsonObject(nested(33)));
  expectInvalid(parseJsonObject("{\"a\":" + std::string(100'000, '[')));
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(parseJsonObject("{\"a\": \"" + std::string(100, '[') + "\\\"{{{\"}").ok());
}

TEST(JsonTest, UnknownFieldsAreRefused) {
  JsonObject o = parse(R"({"name": "x", "frames": 1})");
  EXPECT_TRUE(requireOnlyFields(o, {"name", "frames", "extra"}).ok());
  Status s = requireOnlyFields(o, {"name"});
  expectInvalid(s);
  EXPECT_NE(s.error().message.find("frames"), std::string::npos) << s.error().message;
}

TEST(JsonTest, MissingRequiredFieldIsNamed) {
  JsonObject o = parse("{}");
  auto r = getString(o, "name");
  expectInvalid(r);
  EXPECT_NE(r.error().message.find("name"), std::string::npos);
  expectInvalid(getInt(o, "frames"));
  EXPECT_FALSE(getOptionalInt(o, "frames")->has_value());
  EXPECT_FALSE(getOptionalBool(o, "b")->has_value());
  EXPECT_FALSE(getOptionalObject(o, "o")->has_value());
  EXPECT_FALSE(getOptionalArray(o, "a")->has_value());
  EXPECT_FALSE(getOptionalStringList(o, "l")->has_value());
}

TEST(JsonTest, WrongTypesAreRefused) {
  JsonObject o = parse(
      R"({"s": "text", "i": 7, "f": 1.5, "b": true, "o": {}, "a": [1], "n": null, "d": "7"})");
  expectInvalid(getString(o, "i"));
  expectInvalid(getString(o, "b"));
  expectInvalid(getString(o, "o"));
  expectInvalid(getString(o, "n"));
  expectInvalid(getInt(o, "s"));
  expectInvalid(getInt(o, "d"));
  expectInvalid(getInt(o, "f"));
  expectInvalid(getInt(o, "b"));
  expectInvalid(getInt(o, "a"));
  expectInvalid(getInt(o, "n"));
  expectInvalid(getOptionalString(o, "i"));
  expectInvalid(getOptionalInt(o, "s"));
  expectInvalid(getOptionalBool(o, "s"));
  expectInvalid(getOptionalBool(o, "i"));
  expectInvalid(getOptionalObject(o, "a"));
  expectInvalid(getOptionalObject(o, "s"));
  expectInvalid(getOptionalArray(o, "o"));
  expectInvalid(getOptionalStringList(o, "a"));  // holds a number
  expectInvalid(getOptionalStringList(o, "s"));
  EXPECT_EQ(**getOptionalBool(o, "b"), true);
  EXPECT_EQ(getOptionalObject(o, "o")->value()->size(), 0u);
  EXPECT_EQ(getOptionalArray(o, "a")->value()->size(), 1u);
}

TEST(JsonTest, IntegerRange) {
  JsonObject o = parse(R"({"max": 9223372036854775807, "min": -9223372036854775808,
                          "over": 9223372036854775808, "u64max": 18446744073709551615,
                          "exp": 1e300, "whole": 3.0, "neg": -12, "sci": 2e3})");
  EXPECT_EQ(*getInt(o, "max"), INT64_MAX);
  EXPECT_EQ(*getInt(o, "min"), INT64_MIN);
  EXPECT_EQ(*getInt(o, "neg"), -12);
  EXPECT_EQ(*getInt(o, "whole"), 3);
  EXPECT_EQ(*getInt(o, "sci"), 2000);
  expectInvalid(getInt(o, "over"));
  expectInvalid(getInt(o, "u64max"));
  expectInvalid(getInt(o, "exp"));
}

TEST(JsonTest, IntegersBeyond64BitsNeverWrapAround) {
  // Each of these must be refused, either by the parser or by getInt, never read as another value.
  for (const char* text : {"18446744073709551616", "18446744073709551617", "-9223372036854775809",
                           "123456789012345678901234567890", "-99999999999999999999"}) {
    SCOPED_TRACE(text);
    auto o = parseJsonObject(std::string("{\"x\": ") + text + "}");
    if (o.ok()) expectInvalid(getInt(*o, "x"));
    auto nested = parseJsonObject(std::string("{\"a\": [1, {\"x\": ") + text + "}]}");
    EXPECT_FALSE(nested.ok());
  }
  // Long digit runs inside strings and fractions are not integers.
  EXPECT_TRUE(parseJsonObject("{\"s\": \"18446744073709551616\"}").ok());
  EXPECT_TRUE(parseJsonObject("{\"f\": 0.18446744073709551616123}").ok());
  EXPECT_TRUE(parseJsonObject("{\"f\": 1.5e-18446744073709551616}").ok());
}

TEST(JsonTest, SerializesRoundTrip) {
  JsonObject o = new Poco::JSON::Object;
  o->set("name", "quote\" and \\ and \n");
  o->set("n", static_cast<std::int64_t>(1) << 60);
  JsonObject back = parse(toJson(o));
  EXPECT_EQ(*getString(back, "name"), "quote\" and \\ and \n");
  EXPECT_EQ(*getInt(back, "n"), static_cast<std::int64_t>(1) << 60);
  JsonArray arr = new Poco::JSON::Array;
  arr->add(1);
  arr->add("x");
  EXPECT_EQ(toJson(arr), "[1,\"x\"]");
}

}  // namespace
}  // namespace dcloud
