#pragma once
// A leased task as the worker sees it: parsed strictly from the scheduler's lease answer.

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "common/sigv4.h"

namespace dcloud::worker {

struct Task {
  std::string task_id;
  std::string attempt_id;
  std::string job_id;
  std::string kind;                  // render | command
  std::string scene;                 // s3://bucket/key (render)
  std::vector<std::string> command;  // (command, train)
  std::string checkpoint_prefix;     // s3://bucket/prefix (train; the same on every attempt)
  int frame_first = 0;
  int frame_last = 0;
  int cores = 1;
  std::int64_t memory_mb = 1024;
  int gpus = 0;
  std::int64_t timeout_seconds = 3600;
  std::string output_bucket;
  std::string output_prefix;
  std::string s3_endpoint;
  SigV4Credentials s3;
};

Result<Task> taskFromJson(const JsonObject& obj);

}  // namespace dcloud::worker
