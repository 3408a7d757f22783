// validateJobSpec rule by rule, planTasks chunking and the cost rounding of the pure job model.
#include "scheduler/core/job_spec.h"

#include <gtest/gtest.h>

#include <climits>
#include <functional>
#include <string>
#include <vector>

namespace dcloud::core {
namespace {

JobSpec renderSpec() {
  JobSpec s;
  s.kind = JobKind::kRender;
  s.name = "shot";
  s.scene = "s3://u-owner/scene.blend";
  s.frame_first = 1;
  s.frame_last = 10;
  s.chunk = 1;
  s.max_price = kMicrosPerCredit;
  return s;
}

JobSpec commandSpec() {
  JobSpec s;
  s.kind = JobKind::kCommand;
  s.command = {"python3", "-c", "print(1)"};
  s.max_price = kMicrosPerCredit;
  return s;
}

struct ValidationCase {
  const char* name;
  std::function<JobSpec()> make;
  const char* error;  // substring of the message; nullptr: valid
};

JobSpec render(const std::function<void(JobSpec&)>& edit) {
  JobSpec s = renderSpec();
  edit(s);
  return s;
}
JobSpec command(const std::function<void(JobSpec&)>& edit) {
  JobSpec s = commandSpec();
  edit(s);
  return s;
}

const SpecLimits kLimits;

std::vector<ValidationCase> validationCases() {
  return {
      {"valid render", [] { return renderSpec(); }, nullptr},
      {"valid command", [] { return commandSpec(); }, nullptr},
      {"name of 200 characters", [] { return render([](JobSpec& s) { s.name.assign(200, 'n'); }); },
       nullptr},
      {"name of 201 characters", [] { return render([](JobSpec& s) { s.name.assign(201, 'n'); }); },
       "name is longer"},
      // Resources.
      {"zero cores", [] { return render([](JobSpec& s) { s.resources.cores = 0; }); }, "cores"},
      {"negative cores", [] { return render([](JobSpec& s) { s.resources.cores = -4; }); },
       "cores"},
      {"max cores",
       [] { return render([](JobSpec& s) { s.resources.cores = kLimits.max_cores; }); }, nullptr},
      {"too many cores",
       [] { return render([](JobSpec& s) { s.resources.cores = kLimits.max_cores + 1; }); },
       "cores"},
      {"memory 15 MB", [] { return render([](JobSpec& s) { s.resources.memory_mb = 15; }); },
       "memory_mb"},
      {"memory 16 MB", [] { return render([](JobSpec& s) { s.resources.memory_mb = 16; }); },
       nullptr},
      {"negative memory", [] { return render([](JobSpec& s) { s.resources.memory_mb = -1; }); },
       "memory_mb"},
      {"absurd memory",
       [] { return render([](JobSpec& s) { s.resources.memory_mb = kLimits.max_memory_mb + 1; }); },
       "memory_mb"},
      {"negative gpus", [] { return render([](JobSpec& s) { s.resources.gpus = -1; }); }, "gpus"},
      {"max gpus", [] { return render([](JobSpec& s) { s.resources.gpus = kLimits.max_gpus; }); },
       nullptr},
      {"too many gpus",
       [] { return render([](JobSpec& s) { s.resources.gpus = kLimits.max_gpus + 1; }); }, "gpus"},
      {"negative disk", [] { return render([](JobSpec& s) { s.resources.disk_mb = -1; }); },
       "disk_mb"},
      // Money.
      {"zero max_price", [] { return render([](JobSpec& s) { s.max_price = 0; }); },
       "max_price must be positive"},
      {"negative max_price", [] { return render([](JobSpec& s) { s.max_price = -5; }); },
       "max_price must be positive"},
      {"one micro max_price", [] { return render([](JobSpec& s) { s.max_price = 1; }); }, nullptr},
      {"max_price at the limit",
       [] { return render([](JobSpec& s) { s.max_price = kLimits.max_price; }); }, nullptr},
      {"absurd max_price",
       [] { return render([](JobSpec& s) { s.max_price = kLimits.max_price + 1; }); },
       "absurdly high"},
      {"negative min_reputation", [] { return render([](JobSpec& s) { s.min_reputation = -1; }); },
       "min_reputation"},
      // Timeouts and attempts.
      {"zero timeout", [] { return render([](JobSpec& s) { s.timeout_seconds = 0; }); },
       "timeout_seconds"},
      {"one second timeout", [] { return render([](JobSpec& s) { s.timeout_seconds = 1; }); },
       nullptr},
      {"longest timeout",
       [] { return render([](JobSpec& s) { s.timeout_seconds = kLimits.max_timeout_seconds; }); },
       nullptr},
      {"too long timeout",
       [] {
         return render([](JobSpec& s) { s.timeout_seconds = kLimits.max_timeout_seconds + 1; });
       },
       "timeout_seconds"},
      {"zero attempts", [] { return render([](JobSpec& s) { s.max_attempts = 0; }); },
       "max_attempts"},
      {"max attempts",
       [] { return render([](JobSpec& s) { s.max_attempts = kLimits.max_attempts; }); }, nullptr},
      {"too many attempts",
       [] { return render([](JobSpec& s) { s.max_attempts = kLimits.max_attempts + 1; }); },
       "max_attempts"},
      // Render frames and chunks.
      {"scene not s3", [] { return render([](JobSpec& s) { s.scene = "http://x/scene.blend"; }); },
       "s3://"},
      {"no scene", [] { return render([](JobSpec& s) { s.scene.clear(); }); }, "s3://"},
      {"render with a command", [] { return render([](JobSpec& s) { s.command = {"ls"}; }); },
       "no command"},
      {"negative first frame", [] { return render([](JobSpec& s) { s.frame_first = -5; }); },
       "negative"},
      {"negative last frame",
       [] { return render([](JobSpec& s) { s.frame_first = -9, s.frame_last = -1; }); },
       "negative"},
      {"INT_MIN first frame", [] { return render([](JobSpec& s) { s.frame_first = INT_MIN; }); },
       "negative"},
      {"INT_MAX last frame", [] { return render([](JobSpec& s) { s.frame_last = INT_MAX; }); },
       "at most"},
      {"highest frame number",
       [] {
         return render([](JobSpec& s) { s.frame_first = s.frame_last = kLimits.max_frame_number; });
       },
       nullptr},
      {"frame number too high",
       [] { return render([](JobSpec& s) { s.frame_last = kLimits.max_frame_number + 1; }); },
       "at most"},
      {"empty range 10-1",
       [] { return render([](JobSpec& s) { s.frame_first = 10, s.frame_last = 1; }); }, "empty"},
      {"frame zero only",
       [] { return render([](JobSpec& s) { s.frame_first = 0, s.frame_last = 0; }); }, nullptr},
      {"most frames",
       [] {
         return render([](JobSpec& s) {
           s.frame_first = 1, s.frame_last = kLimits.max_frames, s.chunk = 10;
         });
       },
       nullptr},
      {"too many frames",
       [] {
         return render([](JobSpec& s) {
           s.frame_first = 0, s.frame_last = kLimits.max_frames, s.chunk = 100;
         });
       },
       "frames per job"},
      {"chunk 0", [] { return render([](JobSpec& s) { s.chunk = 0; }); }, "chunk"},
      {"negative chunk", [] { return render([](JobSpec& s) { s.chunk = -3; }); }, "chunk"},
      {"chunk larger than the range", [] { return render([](JobSpec& s) { s.chunk = 1000; }); },
       nullptr},
      {"most tasks",
       [] {
         return render([](JobSpec& s) { s.frame_first = 1, s.frame_last = kLimits.max_tasks; });
       },
       nullptr},
      {"too many tasks",
       [] {
         return render([](JobSpec& s) { s.frame_first = 1, s.frame_last = kLimits.max_tasks + 1; });
       },
       "tasks per job"},
      {"enough chunking",
       [] {
         return render([](JobSpec& s) {
           s.frame_first = 1, s.frame_last = kLimits.max_tasks + 1, s.chunk = 2;
         });
       },
       nullptr},
      // Commands.
      {"command without argv", [] { return command([](JobSpec& s) { s.command.clear(); }); },
       "need a command"},
      {"empty program", [] { return command([](JobSpec& s) {
                               s.command = {"", "x"};
                             }); },
       "program is empty"},
      {"most arguments",
       [] { return command([](JobSpec& s) { s.command.assign(kLimits.max_command_args, "a"); }); },
       nullptr},
      {"too many arguments",
       [] {
         return command([](JobSpec& s) { s.command.assign(kLimits.max_command_args + 1, "a"); });
       },
       "too many arguments"},
      {"command of the most bytes",
       [] {
         return command([](JobSpec& s) {
           s.command = {"sh", std::string(kLimits.max_command_bytes - 2, 'x')};
         });
       },
       nullptr},
      {"command too long",
       [] {
         return command([](JobSpec& s) {
           s.command = {"sh", std::string(kLimits.max_command_bytes, 'x')};
         });
       },
       "too long"},
      {"NUL in an argument",
       [] { return command([](JobSpec& s) {
              s.command = {"sh", std::string("a\0b", 3)};
            }); },
       "NUL"},
      {"command with a scene", [] { return command([](JobSpec& s) { s.scene = "s3://b/k"; }); },
       "no scene"},
      {"command ignores frames",
       [] { return command([](JobSpec& s) { s.frame_first = 10, s.frame_last = 1; }); }, nullptr},
  };
}

TEST(ValidateJobSpecTest, EveryRule) {
  for (const ValidationCase& c : validationCases()) {
    SCOPED_TRACE(c.name);
    Status s = validateJobSpec(c.make());
    if (c.error == nullptr) {
      EXPECT_TRUE(s.ok()) << s.error().message;
    } else {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(s.error().message.find(c.error), std::string::npos) << s.error().message;
    }
  }
}

TEST(ValidateJobSpecTest, LimitsAreConfigurable) {
  SpecLimits limits;
  limits.max_tasks = 3;
  JobSpec s = renderSpec();
  s.frame_first = 1;
  s.frame_last = 3;
  EXPECT_TRUE(validateJobSpec(s, limits).ok());
  s.frame_last = 4;
  EXPECT_FALSE(validateJobSpec(s, limits).ok());
  s.chunk = 2;
  EXPECT_TRUE(validateJobSpec(s, limits).ok());
}

TEST(JobKindTest, NamesRoundTrip) {
  for (JobKind k : {JobKind::kRender, JobKind::kCommand, JobKind::kTrain, JobKind::kBackup}) {
    auto parsed = parseJobKind(jobKindName(k));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_FALSE(parseJobKind("mine").ok());
  EXPECT_FALSE(parseJobKind("").ok());
  EXPECT_FALSE(parseJobKind("Render").ok());
}

struct Chunk {
  int index, first, last;
};

void expectPlan(const JobSpec& spec, const std::vector<Chunk>& want) {
  ASSERT_TRUE(validateJobSpec(spec).ok());
  std::vector<TaskPlan> got = planTasks(spec);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].index, want[i].index);
    EXPECT_EQ(got[i].frame_first, want[i].first);
    EXPECT_EQ(got[i].frame_last, want[i].last);
  }
}

TEST(PlanTasksTest, UnevenLastChunk) {
  JobSpec s = renderSpec();
  s.frame_first = 1;
  s.frame_last = 10;
  s.chunk = 3;
  expectPlan(s, {{0, 1, 3}, {1, 4, 6}, {2, 7, 9}, {3, 10, 10}});
}

TEST(PlanTasksTest, EvenChunks) {
  JobSpec s = renderSpec();
  s.frame_first = 5;
  s.frame_last = 12;
  s.chunk = 4;
  expectPlan(s, {{0, 5, 8}, {1, 9, 12}});
}

TEST(PlanTasksTest, SingleFrame) {
  JobSpec s = renderSpec();
  s.frame_first = s.frame_last = 7;
  s.chunk = 4;
  expectPlan(s, {{0, 7, 7}});
}

TEST(PlanTasksTest, ChunkLargerThanRange) {
  JobSpec s = renderSpec();
  s.frame_first = 0;
  s.frame_last = 2;
  s.chunk = 100;
  expectPlan(s, {{0, 0, 2}});
}

TEST(PlanTasksTest, OneFramePerTask) {
  JobSpec s = renderSpec();
  s.frame_first = 1;
  s.frame_last = 3;
  expectPlan(s, {{0, 1, 1}, {1, 2, 2}, {2, 3, 3}});
}

TEST(PlanTasksTest, LargestJobCoversEveryFrameOnce) {
  JobSpec s = renderSpec();
  s.frame_first = kLimits.max_frame_number - kLimits.max_frames + 1;
  s.frame_last = kLimits.max_frame_number;
  s.chunk = 10;
  ASSERT_TRUE(validateJobSpec(s).ok());
  std::vector<TaskPlan> plan = planTasks(s);
  ASSERT_EQ(plan.size(), static_cast<std::size_t>(kLimits.max_frames / 10));
  int next = s.frame_first;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].index, static_cast<int>(i));
    EXPECT_EQ(plan[i].frame_first, next);
    next = plan[i].frame_last + 1;
  }
  EXPECT_EQ(next, s.frame_last + 1);
}

TEST(PlanTasksTest, CommandIsOneTask) {
  JobSpec s = commandSpec();
  expectPlan(s, {{0, 0, 0}});
}

TEST(CostTest, MaxTaskCostIsTheBidForTheWholeTimeoutRoundedUp) {
  JobSpec s = renderSpec();
  struct Case {
    Micros price;
    std::int64_t timeout;
    Micros want;
  };
  for (const Case& c : std::vector<Case>{
           {kMicrosPerCredit, 3600, kMicrosPerCredit},
           {kMicrosPerCredit, 7200, 2 * kMicrosPerCredit},
           {kMicrosPerCredit, 1, 278},  // 277.78 rounds up
           {kMicrosPerCredit, 600, 166'667},
           {1, 1, 1},  // never rounds down to free
           {3600, 1, 1},
           {3601, 1, 2},
           // The largest bid for the longest timeout does not overflow.
           {kLimits.max_price, kLimits.max_timeout_seconds, kLimits.max_price * 168},
       }) {
    s.max_price = c.price;
    s.timeout_seconds = c.timeout;
    EXPECT_EQ(maxTaskCost(s), c.want) << c.price << " x " << c.timeout << " s";
  }
}

TEST(CostTest, AttemptCostRoundsUpToTheMicro) {
  struct Case {
    Micros price;
    std::int64_t wall;
    Micros want;
  };
  for (const Case& c : std::vector<Case>{
           {3'600'000, 1000, 1000},
           {kMicrosPerCredit, 3'600'000, kMicrosPerCredit},
           {kMicrosPerCredit, 1, 1},
           {500'000, 60'000, 8334},  // 8333.33
           {1, 1, 1},
           {0, 1000, 0},
           {kMicrosPerCredit, 0, 0},
           {-5, 1000, 0},
           {kMicrosPerCredit, -1000, 0},
           {kLimits.max_price, 7LL * 24 * 3'600'000, kLimits.max_price * 168},
       }) {
    EXPECT_EQ(attemptCost(c.price, c.wall), c.want) << c.price << " for " << c.wall << " ms";
  }
}

TEST(CostTest, AttemptNeverCostsMoreThanTheEscrowForItsTimeout) {
  JobSpec s = renderSpec();
  for (Micros price : {1LL, 7LL, 999'999LL, 1'234'567LL}) {
    for (std::int64_t timeout : {1LL, 59LL, 3600LL, 86'399LL}) {
      s.max_price = price;
      s.timeout_seconds = timeout;
      EXPECT_LE(attemptCost(price, timeout * 1000), maxTaskCost(s)) << price << " " << timeout;
    }
  }
}

}  // namespace
}  // namespace dcloud::core
