#pragma once
// The job model: what a user asks for, validated, and split into tasks. Pure: no I/O.

#include <cstdint>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/result.h"

namespace dcloud::core {

enum class JobKind { kRender, kCommand };
const char* jobKindName(JobKind kind);
Result<JobKind> parseJobKind(const std::string& name);

struct Resources {
  int cores = 1;
  std::int64_t memory_mb = 1024;
  int gpus = 0;
  std::int64_t disk_mb = 0;
};

struct JobSpec {
  JobKind kind = JobKind::kRender;
  std::string name;
  // render: the scene as an s3:// URL, frames first..last (inclusive), `chunk` frames per task.
  std::string scene;
  int frame_first = 1;
  int frame_last = 1;
  int chunk = 1;
  // command: argv run in the sandbox.
  std::vector<std::string> command;
  Resources resources;
  // Highest hourly price the owner accepts for one task's resources (see hourlyPrice).
  Micros max_price = 0;
  // Lowest provider reputation the owner accepts.
  Micros min_reputation = 0;
  // A task running longer is killed; also bounds the escrow held at submit.
  std::int64_t timeout_seconds = 3600;
  int max_attempts = 3;
};

struct SpecLimits {
  int max_frames = 100'000;
  int max_tasks = 10'000;
  int max_frame_number = 1'000'000;
  int max_command_args = 256;
  std::size_t max_command_bytes = 64 * 1024;
  int max_cores = 1024;
  std::int64_t max_memory_mb = 4 * 1024 * 1024;
  int max_gpus = 64;
  std::int64_t max_timeout_seconds = 7 * 24 * 3600;
  int max_attempts = 10;
  Micros max_price = 1'000'000 * kMicrosPerCredit;
};

// InvalidArgument naming the first thing wrong.
Status validateJobSpec(const JobSpec& spec, const SpecLimits& limits = {});

struct TaskPlan {
  int index = 0;
  int frame_first = 0;  // render only
  int frame_last = 0;
};

// One task per chunk of frames for render jobs, one task for command jobs. The spec must be valid.
std::vector<TaskPlan> planTasks(const JobSpec& spec);

// The most one task can cost: max_price for the whole timeout, rounded up.
Micros maxTaskCost(const JobSpec& spec);
// What a finished attempt costs at the agreed hourly price for its wall time, rounded up.
Micros attemptCost(Micros hourly_price, std::int64_t wall_millis);

}  // namespace dcloud::core
