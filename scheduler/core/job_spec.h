#pragma once
// The job model: what a user asks for, validated, and split into tasks. Pure: no I/O.

#include <cstdint>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/result.h"

namespace dcloud::core {

// render: frames of a scene; command: argv in the sandbox; train: a command that needs GPUs and
// gets a checkpoint prefix; backup: a storage contract placed on disk offers, no process runs.
enum class JobKind { kRender, kCommand, kTrain, kBackup };
const char* jobKindName(JobKind kind);
Result<JobKind> parseJobKind(const std::string& name);

struct Resources {
  int cores = 1;
  std::int64_t memory_mb = 1024;
  int gpus = 0;
  std::int64_t disk_mb = 0;
};

// Task of another job that a task waits for. task < 0: frame by frame (task i waits for task i of
// the job, when that job has a task i).
struct TaskAfter {
  std::string job_id;
  int task = -1;
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
  // A failed attempt returns the task to the queue after retry_backoff_seconds, doubling with
  // every further failure, at most retry_backoff_max_seconds.
  std::int64_t retry_backoff_seconds = 10;
  std::int64_t retry_backoff_max_seconds = 600;
  // A worker that failed this many of the job's attempts gets none of its tasks again (0: never).
  int blocklist_after = 2;
  // Higher goes first among the owner's tasks and may preempt preemptible lower-priority tasks.
  int priority = 0;
  bool preemptible = false;
  // Jobs that must succeed before this one's tasks run, and tasks that single tasks wait for.
  std::vector<std::string> after;
  std::vector<TaskAfter> task_after;
  // train: which GPUs (model substring, case-insensitive; memory per GPU; measured throughput per
  // GPU in GFLOPS) and the s3:// prefix checkpoints go to (handed to every attempt, so a requeued
  // or preempted task resumes from it).
  std::string gpu_model;
  std::int64_t gpu_memory_mb = 0;
  std::int64_t min_gpu_throughput = 0;
  std::string checkpoint_prefix;
  // backup: capacity_gb on `replicas` distinct providers for duration_days; max_price is then the
  // bid per GB-month.
  std::int64_t capacity_gb = 0;
  int replicas = 0;
  std::int64_t duration_days = 0;
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
  std::int64_t max_backoff_seconds = 24 * 3600;
  int max_dependencies = 100;
  std::int64_t max_capacity_gb = 1'000'000;
  int max_replicas = 16;
  std::int64_t max_duration_days = 3650;
  // Tasks of an owner's unfinished jobs, beyond which submissions are refused (a flood of jobs
  // from one owner cannot fill the queue for everyone).
  std::int64_t max_queued_tasks_per_owner = 200'000;
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

// The most one task can cost: max_price for the whole timeout, rounded up; for backup, the whole
// contract: max_price x capacity x replicas x duration in 30-day months, rounded up.
Micros maxTaskCost(const JobSpec& spec);
// The escrow held at submit: every task's every attempt at its most.
Micros jobHold(const JobSpec& spec, std::size_t tasks);
// The backup's demand on one provider's disk, in MB.
inline std::int64_t backupDiskMb(const JobSpec& spec) {
  return spec.capacity_gb * 1024;
}
// How long a task waits after its `failures`-th failed attempt (1 = the first): base doubled per
// further failure, capped. Milliseconds.
std::int64_t retryDelayMillis(const JobSpec& spec, int failures);
// What a finished attempt costs at the agreed hourly price for its wall time, rounded up.
Micros attemptCost(Micros hourly_price, std::int64_t wall_millis);

}  // namespace dcloud::core
