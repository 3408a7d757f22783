#include "scheduler/core/task_state.h"

namespace dcloud::core {

const char* taskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending: return "pending";
    case TaskState::kLeased: return "leased";
    case TaskState::kRunning: return "running";
    case TaskState::kSucceeded: return "succeeded";
    case TaskState::kFailed: return "failed";
    case TaskState::kCancelled: return "cancelled";
  }
  return "unknown";
}

Result<TaskState> parseTaskState(const std::string& name) {
  for (TaskState s : {TaskState::kPending, TaskState::kLeased, TaskState::kRunning,
                      TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    if (name == taskStateName(s)) return s;
  }
  return invalidArgument("unknown task state '" + name + "'");
}

bool isTerminal(TaskState state) {
  return state == TaskState::kSucceeded || state == TaskState::kFailed ||
         state == TaskState::kCancelled;
}

const char* taskEventName(TaskEvent event) {
  switch (event) {
    case TaskEvent::kBooked: return "booked";
    case TaskEvent::kStarted: return "started";
    case TaskEvent::kSucceeded: return "succeeded";
    case TaskEvent::kAttemptFailed: return "attempt-failed";
    case TaskEvent::kLeaseLost: return "lease-lost";
    case TaskEvent::kCancelled: return "cancelled";
  }
  return "unknown";
}

Result<TaskState> nextTaskState(TaskState state, TaskEvent event, int attempts_used,
                                int max_attempts) {
  auto refuse = [&]() -> Result<TaskState> {
    return failedPrecondition(std::string("task is ") + taskStateName(state) + ", cannot apply " +
                              taskEventName(event));
  };
  if (isTerminal(state)) return refuse();
  const bool active = state == TaskState::kLeased || state == TaskState::kRunning;
  switch (event) {
    case TaskEvent::kBooked:
      return state == TaskState::kPending ? Result<TaskState>(TaskState::kLeased) : refuse();
    case TaskEvent::kStarted: return active ? Result<TaskState>(TaskState::kRunning) : refuse();
    case TaskEvent::kSucceeded: return active ? Result<TaskState>(TaskState::kSucceeded) : refuse();
    case TaskEvent::kAttemptFailed:
    case TaskEvent::kLeaseLost:
      if (!active) return refuse();
      return attempts_used >= max_attempts ? TaskState::kFailed : TaskState::kPending;
    case TaskEvent::kCancelled: return TaskState::kCancelled;
  }
  return refuse();
}

const char* jobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

JobState deriveJobState(const TaskCounts& c) {
  const int active = c.pending + c.leased + c.running;
  if (c.total() == 0) return JobState::kQueued;
  if (active == 0) {
    if (c.cancelled > 0) return JobState::kCancelled;
    if (c.failed > 0) return JobState::kFailed;
    return JobState::kSucceeded;
  }
  if (c.leased + c.running + c.succeeded + c.failed > 0) return JobState::kRunning;
  return JobState::kQueued;
}

}  // namespace dcloud::core
