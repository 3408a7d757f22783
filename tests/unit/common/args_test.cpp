#include "common/args.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace dcloud {
namespace {

Args parse(const std::vector<std::string>& argv, const std::set<std::string>& flags = {}) {
  auto r = Args::parse(argv, flags);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().toString());
  return r.ok() ? *r : *Args::parse(std::vector<std::string>{});
}

TEST(ArgsTest, OptionsInBothForms) {
  Args a = parse({"--port", "8080", "--host=0.0.0.0", "--empty="});
  EXPECT_EQ(a.get("port"), "8080");
  EXPECT_EQ(a.get("host"), "0.0.0.0");
  EXPECT_EQ(a.get("empty"), "");
  EXPECT_TRUE(a.has("empty"));
  EXPECT_FALSE(a.has("missing"));
  EXPECT_EQ(a.get("missing"), std::nullopt);
}

TEST(ArgsTest, ValueMayContainEquals) {
  Args a = parse({"--pg=host=/tmp port=5 dbname=x"});
  EXPECT_EQ(a.get("pg"), "host=/tmp port=5 dbname=x");
}

TEST(ArgsTest, BooleanFlagsTakeNoValue) {
  Args a = parse({"--verbose", "job.json", "--dry-run=false"}, {"verbose", "dry-run"});
  EXPECT_EQ(a.get("verbose"), "true");
  EXPECT_EQ(a.get("dry-run"), "false");
  EXPECT_EQ(a.positional(), (std::vector<std::string>{"job.json"}));
}

TEST(ArgsTest, OptionWithoutValueIsAnError) {
  auto r = Args::parse(std::vector<std::string>{"--port"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("port"), std::string::npos);
}

TEST(ArgsTest, PositionalAndRest) {
  Args a = parse({"submit", "-x", "--name", "n", "job.json", "--", "--not-an-option", "arg"});
  EXPECT_EQ(a.positional(), (std::vector<std::string>{"submit", "-x", "job.json"}));
  EXPECT_EQ(a.get("name"), "n");
  EXPECT_EQ(a.rest(), (std::vector<std::string>{"--not-an-option", "arg"}));
  EXPECT_FALSE(a.has("not-an-option"));
  Args empty_rest = parse({"a", "--"});
  EXPECT_TRUE(empty_rest.rest().empty());
  EXPECT_EQ(empty_rest.positional(), (std::vector<std::string>{"a"}));
}

TEST(ArgsTest, RepeatedOptionsAccumulate) {
  Args a = parse({"--admin", "A", "--admin=B", "--admin", "C"});
  EXPECT_EQ(a.get("admin"), "A\nB\nC");
}

TEST(ArgsTest, ArgcArgvSkipsProgramName) {
  const char* argv[] = {"prog", "--port", "1", "pos"};
  auto r = Args::parse(4, argv);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get("port"), "1");
  EXPECT_EQ(r->positional(), (std::vector<std::string>{"pos"}));
}

TEST(ArgsTest, RequireKnown) {
  Args a = parse({"--port", "1", "--prot", "2"});
  EXPECT_TRUE(a.requireKnown({"port", "prot"}).ok());
  Status s = a.requireKnown({"port", "host"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("--prot"), std::string::npos);
  EXPECT_TRUE(parse({"positional"}).requireKnown({}).ok());
}

TEST(ArgsTest, GetInt) {
  Args a = parse({"--n", "42", "--neg=-7", "--bad", "4x", "--empty="});
  EXPECT_EQ(*a.getInt("n", 0), 42);
  EXPECT_EQ(*a.getInt("neg", 0), -7);
  EXPECT_EQ(*a.getInt("absent", 9), 9);
  EXPECT_FALSE(a.getInt("bad", 0).ok());
  EXPECT_FALSE(a.getInt("empty", 0).ok());
}

TEST(ArgsTest, EnvironmentFallback) {
  ::setenv("DCLOUD_ARGS_TEST_PORT", "7000", 1);
  ::setenv("DCLOUD_ARGS_TEST_EMPTY", "", 1);
  ::unsetenv("DCLOUD_ARGS_TEST_UNSET");
  Args with = parse({"--port", "8000"});
  Args without = parse({});
  EXPECT_EQ(with.get("port", "DCLOUD_ARGS_TEST_PORT", "9000"), "8000");
  EXPECT_EQ(without.get("port", "DCLOUD_ARGS_TEST_PORT", "9000"), "7000");
  EXPECT_EQ(without.get("port", "DCLOUD_ARGS_TEST_EMPTY", "9000"), "9000");
  EXPECT_EQ(without.get("port", "DCLOUD_ARGS_TEST_UNSET", "9000"), "9000");
  EXPECT_EQ(without.get("port", "", "9000"), "9000");
  ::unsetenv("DCLOUD_ARGS_TEST_PORT");
  ::unsetenv("DCLOUD_ARGS_TEST_EMPTY");
}

}  // namespace
}  // namespace dcloud
