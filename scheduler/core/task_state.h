#pragma once
// The task state machine. A task is pending until booked, leased once a worker holds it (the
// attempt id is the fencing token), running once the worker says it started, and then ends
// succeeded, failed (attempts exhausted) or cancelled. A failed or lost attempt sends the task
// back to pending while attempts remain. Pure: no I/O.

#include <optional>
#include <string>

#include "common/result.h"

namespace dcloud::core {

enum class TaskState { kPending, kLeased, kRunning, kSucceeded, kFailed, kCancelled };
const char* taskStateName(TaskState state);
Result<TaskState> parseTaskState(const std::string& name);
bool isTerminal(TaskState state);

enum class TaskEvent {
  kBooked,         // matched to an offer: pending -> leased
  kStarted,        // worker reports it began: leased -> running
  kSucceeded,      // worker completes with exit 0
  kAttemptFailed,  // worker completes with an error
  kLeaseLost,      // worker stopped heartbeating
  kCancelled,      // owner cancelled the job
};
const char* taskEventName(TaskEvent event);

// attempts_used counts attempts that have been booked so far, including the current one.
// FailedPrecondition when the event is not allowed in this state.
Result<TaskState> nextTaskState(TaskState state, TaskEvent event, int attempts_used,
                                int max_attempts);

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
const char* jobStateName(JobState state);

struct TaskCounts {
  int pending = 0, leased = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
  int total() const { return pending + leased + running + succeeded + failed + cancelled; }
};
// A job is cancelled if any task was cancelled and none is active, failed if any task failed and
// none is active, succeeded when all succeeded, running when any task was ever booked, else
// queued.
JobState deriveJobState(const TaskCounts& counts);

}  // namespace dcloud::core
