#pragma once
// Runs one leased task end to end: fetches its inputs, runs it in the sandbox, uploads each
// output file as soon as it is complete, reports progress, and completes the attempt with a
// usage receipt signed by the provider key.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/identity.h"
#include "common/log.h"
#include "worker/sandbox.h"
#include "worker/task.h"

namespace dcloud::worker {

struct RunnerConfig {
  std::string worker_id;
  std::string scratch_dir;  // per-attempt directories are created under it
  std::string blender = "/usr/bin/blender";
  int max_processes = 1024;
  bool keep_scratch = false;
  // > 0: the completion call also asks for the worker's next work, waiting up to this long;
  // what comes back is in RunOutcome::next_tasks.
  std::int64_t next_lease_wait_millis = 0;
};

// Where an attempt's time went (microseconds), for benchmarks.
struct RunTimings {
  std::int64_t before_sandbox_micros = 0;  // run() called until Sandbox::run called
  SandboxTimings sandbox;
  std::int64_t after_sandbox_micros = 0;  // Sandbox::run returned until the completion is sent
  std::int64_t complete_micros = 0;       // the completion call
  std::int64_t cleanup_micros = 0;        // removing the scratch directory
};

struct RunOutcome {
  bool succeeded = false;
  int exit_code = 0;
  std::string error;
  int frames_done = 0;
  std::int64_t bytes_out = 0;
  std::vector<JsonObject> next_tasks;  // leased in the completion's response
  RunTimings timings;
};

class TaskRunner {
 public:
  TaskRunner(RunnerConfig config, const ApiClient& scheduler, const KeyPair& provider_key,
             Sandbox& sandbox, const Clock& clock)
      : config_(std::move(config)),
        scheduler_(scheduler),
        key_(provider_key),
        sandbox_(sandbox),
        clock_(clock) {}

  // Blocks until the attempt is completed at the scheduler (or the scheduler refused it).
  // cancel may be set from another thread (job cancelled, lease lost, worker stopping).
  RunOutcome run(const Task& task, std::atomic<bool>& cancel);

 private:
  RunnerConfig config_;
  const ApiClient& scheduler_;
  const KeyPair& key_;
  Sandbox& sandbox_;
  const Clock& clock_;
  Logger log_{"worker"};
};

}  // namespace dcloud::worker
