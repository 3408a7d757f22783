// parseJobRequest is strict (bad JSON, unknown fields, wrong types, bad frame strings, prices
// only as decimal strings), and the stored spec survives specToJson -> parseStoredSpec unchanged.
#include "scheduler/job_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dcloud::scheduler {
namespace {

const std::string kRender =
    R"({"kind": "render", "name": "shot", "scene": "s3://u-x/scene.blend", "frames": "1-24",
        "chunk": 4, "max_price": "1.5", "min_reputation": "2", "timeout_seconds": 600,
        "max_attempts": 2, "resources": {"cores": 2, "memory_mb": 2048, "gpus": 1,
        "disk_mb": 100}, "output_bucket": "renders"})";

TEST(ParseJobRequestTest, FullRenderRequest) {
  auto r = parseJobRequest(kRender);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const core::JobSpec& s = r->spec;
  EXPECT_EQ(s.kind, core::JobKind::kRender);
  EXPECT_EQ(s.name, "shot");
  EXPECT_EQ(s.scene, "s3://u-x/scene.blend");
  EXPECT_EQ(s.frame_first, 1);
  EXPECT_EQ(s.frame_last, 24);
  EXPECT_EQ(s.chunk, 4);
  EXPECT_EQ(s.max_price, 1'500'000);
  EXPECT_EQ(s.min_reputation, 2'000'000);
  EXPECT_EQ(s.timeout_seconds, 600);
  EXPECT_EQ(s.max_attempts, 2);
  EXPECT_EQ(s.resources.cores, 2);
  EXPECT_EQ(s.resources.memory_mb, 2048);
  EXPECT_EQ(s.resources.gpus, 1);
  EXPECT_EQ(s.resources.disk_mb, 100);
  EXPECT_EQ(r->output_bucket, "renders");
  EXPECT_TRUE(core::validateJobSpec(s).ok());
}

TEST(ParseJobRequestTest, MinimalCommandRequestGetsDefaults) {
  auto r =
      parseJobRequest(R"({"kind": "command", "command": ["echo", "hi"], "max_price": "0.000001"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.kind, core::JobKind::kCommand);
  EXPECT_EQ(r->spec.command, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_EQ(r->spec.max_price, 1);
  EXPECT_EQ(r->spec.min_reputation, 0);
  const core::JobSpec defaults;
  EXPECT_EQ(r->spec.timeout_seconds, defaults.timeout_seconds);
  EXPECT_EQ(r->spec.max_attempts, defaults.max_attempts);
  EXPECT_EQ(r->spec.resources.cores, defaults.resources.cores);
  EXPECT_EQ(r->spec.resources.memory_mb, defaults.resources.memory_mb);
  EXPECT_EQ(r->output_bucket, "");
  EXPECT_TRUE(core::validateJobSpec(r->spec).ok());
}

TEST(ParseJobRequestTest, SingleFrameAndExplicitFrameFields) {
  auto one = parseJobRequest(
      R"({"kind": "render", "scene": "s3://b/k", "frames": "7", "max_price": "1"})");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->spec.frame_first, 7);
  EXPECT_EQ(one->spec.frame_last, 7);
  auto explicit_fields = parseJobRequest(
      R"({"kind": "render", "scene": "s3://b/k", "frame_first": 3, "frame_last": 9,
          "max_price": "1"})");
  ASSERT_TRUE(explicit_fields.ok()) << explicit_fields.error().message;
  EXPECT_EQ(explicit_fields->spec.frame_first, 3);
  EXPECT_EQ(explicit_fields->spec.frame_last, 9);
}

struct BadCase {
  const char* name;
  std::string body;
  const char* message;  // substring of the error, or nullptr for any InvalidArgument
};

std::vector<BadCase> badCases() {
  return {
      {"empty body", "", nullptr},
      {"truncated JSON", R"({"kind": "render", )", nullptr},
      {"garbage", "not json at all", nullptr},
      {"array instead of object", R"([{"kind": "command"}])", nullptr},
      {"string instead of object", R"("command")", nullptr},
      {"unknown field", R"({"kind": "command", "command": ["ls"], "max_price": "1", "urgency": 9})",
       "urgency"},
      {"unknown resource field",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "resources": {"cpus": 2}})",
       "cpus"},
      {"unknown kind", R"({"kind": "mine", "command": ["ls"], "max_price": "1"})", "mine"},
      {"missing kind", R"({"command": ["ls"], "max_price": "1"})", "kind"},
      {"kind is a number", R"({"kind": 1, "command": ["ls"], "max_price": "1"})", "kind"},
      {"missing max_price", R"({"kind": "command", "command": ["ls"]})", "max_price"},
      {"max_price as a JSON number", R"({"kind": "command", "command": ["ls"], "max_price": 1.5})",
       "decimal string"},
      {"max_price as an integer", R"({"kind": "command", "command": ["ls"], "max_price": 2})",
       "decimal string"},
      {"max_price not a number", R"({"kind": "command", "command": ["ls"], "max_price": "abc"})",
       "max_price"},
      {"negative max_price", R"({"kind": "command", "command": ["ls"], "max_price": "-1"})",
       "max_price"},
      {"max_price with seven decimals",
       R"({"kind": "command", "command": ["ls"], "max_price": "0.0000001"})", "max_price"},
      {"min_reputation as a number",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "min_reputation": 5})",
       "min_reputation"},
      {"command is a string", R"({"kind": "command", "command": "ls -l", "max_price": "1"})",
       "command"},
      {"command holds numbers", R"({"kind": "command", "command": ["sleep", 5], "max_price": "1"})",
       "command"},
      {"resources is an array",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "resources": [1]})",
       "resources"},
      {"cores is a string",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "resources": {"cores": "2"}})",
       "cores"},
      {"cores overflow int",
       R"({"kind": "command", "command": ["ls"], "max_price": "1",
           "resources": {"cores": 3000000000}})",
       "cores"},
      {"chunk is a string",
       R"({"kind": "render", "scene": "s3://b/k", "frames": "1-4", "chunk": "2",
           "max_price": "1"})",
       "chunk"},
      {"chunk overflows int",
       R"({"kind": "render", "scene": "s3://b/k", "frames": "1-4", "chunk": 99999999999,
           "max_price": "1"})",
       "chunk"},
      {"timeout is a string",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "timeout_seconds": "60"})",
       "timeout_seconds"},
      {"max_attempts is a bool",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "max_attempts": true})",
       "max_attempts"},
      {"frames is a number",
       R"({"kind": "render", "scene": "s3://b/k", "frames": 5, "max_price": "1"})", "frames"},
      {"render without frames", R"({"kind": "render", "scene": "s3://b/k", "max_price": "1"})",
       "frames"},
      {"frames and frame_first",
       R"({"kind": "render", "scene": "s3://b/k", "frames": "1-2", "frame_first": 1,
           "max_price": "1"})",
       "either"},
      {"output_bucket is a number",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "output_bucket": 7})",
       "output_bucket"},
  };
}

TEST(ParseJobRequestTest, RefusesMalformedRequests) {
  for (const BadCase& c : badCases()) {
    SCOPED_TRACE(c.name);
    auto r = parseJobRequest(c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    if (c.message) {
      EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    }
  }
}

TEST(ParseFrameRangeTest, Table) {
  struct Case {
    std::string text;
    bool ok;
    int first, last;
  };
  for (const Case& c : std::vector<Case>{
           {"1-24", true, 1, 24},
           {"0-0", true, 0, 0},
           {"7", true, 7, 7},
           {"1000000", true, 1'000'000, 1'000'000},
           {"10-1", true, 10, 1},  // parses; validateJobSpec refuses the empty range
           {"", false, 0, 0},
           {"-5", false, 0, 0},
           {"-5-10", false, 0, 0},
           {"5-", false, 0, 0},
           {"-", false, 0, 0},
           {"a-b", false, 0, 0},
           {"1-b", false, 0, 0},
           {"a", false, 0, 0},
           {"1-2-3", false, 0, 0},
           {" 1-2", false, 0, 0},
           {"1-2 ", false, 0, 0},
           {"+1-2", false, 0, 0},
           {"1.5-2", false, 0, 0},
           {"99999999999-1", false, 0, 0},
           {"1-99999999999", false, 0, 0},
       }) {
    SCOPED_TRACE("'" + c.text + "'");
    auto r = parseFrameRange(c.text);
    EXPECT_EQ(r.ok(), c.ok);
    if (r.ok() && c.ok) {
      EXPECT_EQ(r->first, c.first);
      EXPECT_EQ(r->second, c.last);
    }
  }
}

TEST(ParseFrameRangeTest, ReversedRangeIsRefusedByValidation) {
  auto r = parseJobRequest(
      R"({"kind": "render", "scene": "s3://b/k", "frames": "10-1", "max_price": "1"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  Status valid = core::validateJobSpec(r->spec);
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("empty"), std::string::npos);
}

TEST(ParseFrameRangeTest, NegativeSecondFrameIsRefused) {
  // "1--2" must not smuggle a negative frame past the parser and the validator.
  auto range = parseFrameRange("1--2");
  if (range.ok()) {
    core::JobSpec s;
    s.kind = core::JobKind::kRender;
    s.scene = "s3://b/k";
    s.max_price = 1;
    s.frame_first = range->first;
    s.frame_last = range->second;
    EXPECT_FALSE(core::validateJobSpec(s).ok());
  }
}

void expectSameSpec(const core::JobSpec& a, const core::JobSpec& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.scene, b.scene);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.resources.cores, b.resources.cores);
  EXPECT_EQ(a.resources.memory_mb, b.resources.memory_mb);
  EXPECT_EQ(a.resources.gpus, b.resources.gpus);
  EXPECT_EQ(a.resources.disk_mb, b.resources.disk_mb);
  EXPECT_EQ(a.max_price, b.max_price);
  EXPECT_EQ(a.min_reputation, b.min_reputation);
  EXPECT_EQ(a.timeout_seconds, b.timeout_seconds);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  if (a.kind == core::JobKind::kRender) {
    EXPECT_EQ(a.frame_first, b.frame_first);
    EXPECT_EQ(a.frame_last, b.frame_last);
    EXPECT_EQ(a.chunk, b.chunk);
  }
}

TEST(StoredSpecTest, RenderRoundTrip) {
  auto submitted = parseJobRequest(kRender);
  ASSERT_TRUE(submitted.ok());
  const std::string stored = specToJson(submitted->spec);
  auto back = parseStoredSpec(stored);
  ASSERT_TRUE(back.ok()) << back.error().message << " in " << stored;
  expectSameSpec(submitted->spec, *back);
  EXPECT_EQ(specToJson(*back), stored);  // canonical: a second trip changes nothing
}

TEST(StoredSpecTest, CommandRoundTripWithAwkwardStrings) {
  core::JobSpec s;
  s.kind = core::JobKind::kCommand;
  s.name = "quotes \" and \\ and unicode \xc3\xa9";
  s.command = {"sh", "-c", "echo \"$HOME\" | tr '\\n' ' '; printf '\\t'", ""};
  s.resources = {3, 12345, 0, 77};
  s.max_price = 123'456'789;
  s.min_reputation = 1;
  s.timeout_seconds = 7 * 24 * 3600;
  s.max_attempts = 10;
  const std::string stored = specToJson(s);
  auto back = parseStoredSpec(stored);
  ASSERT_TRUE(back.ok()) << back.error().message << " in " << stored;
  expectSameSpec(s, *back);
  EXPECT_EQ(specToJson(*back), stored);
}

TEST(StoredSpecTest, PricesAreStoredAsDecimalStrings) {
  core::JobSpec s;
  s.kind = core::JobKind::kCommand;
  s.command = {"true"};
  s.max_price = 1'500'000;
  auto obj = parseJsonObject(specToJson(s));
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(*getString(*obj, "max_price"), "1.5");
  EXPECT_EQ(*getString(*obj, "min_reputation"), "0.0");
}

TEST(StoredSpecTest, CorruptStoredSpecIsAnErrorNotACrash) {
  EXPECT_FALSE(parseStoredSpec("").ok());
  EXPECT_FALSE(parseStoredSpec("{").ok());
  EXPECT_FALSE(parseStoredSpec(R"({"kind": "render"})").ok());  // no max_price
  EXPECT_FALSE(parseStoredSpec(R"({"kind": "x", "max_price": "1"})").ok());
}

TEST(AccountJsonTest, AvailableIsBalanceMinusHeld) {
  AccountView a;
  a.id = "abc";
  a.balance = 5 * kMicrosPerCredit;
  a.held = 1'250'000;
  a.reputation = 7;
  JsonObject o = accountToJson(a);
  EXPECT_EQ(*getString(o, "balance"), "5.0");
  EXPECT_EQ(*getString(o, "held"), "1.25");
  EXPECT_EQ(*getString(o, "available"), "3.75");
  EXPECT_EQ(*getInt(o, "balance_micros"), 5'000'000);
  EXPECT_EQ(*getString(o, "reputation"), "0.000007");
}

}  // namespace
}  // namespace dcloud::scheduler
