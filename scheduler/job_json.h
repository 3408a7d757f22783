#pragma once
// The JSON shapes of the scheduler API: job specs in, job, task and account views out.

#include <string>

#include "common/json.h"
#include "common/result.h"
#include "scheduler/core/job_spec.h"
#include "scheduler/store.h"

namespace dcloud::scheduler {

// POST /v1/jobs body -> spec. Strict: unknown fields and wrong types are errors.
//   {"kind": "render", "name": "shot", "scene": "s3://b/k.blend", "frames": "1-24", "chunk": 4,
//    "max_price": "1.5", "min_reputation": "0", "timeout_seconds": 600, "max_attempts": 3,
//    "resources": {"cores": 1, "memory_mb": 2048, "gpus": 0, "disk_mb": 0},
//    "command": ["python3", "-c", "..."]}
// Also fills output_bucket when the body names one ("output_bucket").
struct SubmittedJob {
  core::JobSpec spec;
  std::string output_bucket;  // empty: the owner's default bucket
};
Result<SubmittedJob> parseJobRequest(const std::string& body);

// "A-B" or "A" -> first, last.
Result<std::pair<int, int>> parseFrameRange(const std::string& text);

// The spec as stored in scheduler.jobs.spec (canonical, complete) and back.
std::string specToJson(const core::JobSpec& spec);
Result<core::JobSpec> parseStoredSpec(const std::string& spec_json);

JsonObject jobToJson(const JobView& job, bool with_tasks);
JsonObject accountToJson(const AccountView& account);
JsonObject assignmentToJson(const Assignment& a);

}  // namespace dcloud::scheduler
