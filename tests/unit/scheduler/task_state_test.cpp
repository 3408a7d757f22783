// The task state machine, exhaustively: every (state, event) pair is either the listed transition
// or refused; attempts exhaustion fails a task; and the job state derived from its task counts.
#include "scheduler/core/task_state.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace dcloud::core {
namespace {

const std::vector<TaskState> kStates = {TaskState::kPending, TaskState::kLeased,
                                        TaskState::kRunning, TaskState::kSucceeded,
                                        TaskState::kFailed,  TaskState::kCancelled};
const std::vector<TaskEvent> kEvents = {TaskEvent::kBooked,    TaskEvent::kStarted,
                                        TaskEvent::kSucceeded, TaskEvent::kAttemptFailed,
                                        TaskEvent::kLeaseLost, TaskEvent::kCancelled};

using S = TaskState;
using E = TaskEvent;

// The allowed transitions with attempts left (1 of 3 used). Everything else is refused.
const std::map<std::pair<S, E>, S> kAllowed = {
    {{S::kPending, E::kBooked}, S::kLeased},
    {{S::kPending, E::kCancelled}, S::kCancelled},
    {{S::kLeased, E::kStarted}, S::kRunning},
    {{S::kLeased, E::kSucceeded}, S::kSucceeded},
    {{S::kLeased, E::kAttemptFailed}, S::kPending},
    {{S::kLeased, E::kLeaseLost}, S::kPending},
    {{S::kLeased, E::kCancelled}, S::kCancelled},
    // Progress reports repeat: started again while running stays running.
    {{S::kRunning, E::kStarted}, S::kRunning},
    {{S::kRunning, E::kSucceeded}, S::kSucceeded},
    {{S::kRunning, E::kAttemptFailed}, S::kPending},
    {{S::kRunning, E::kLeaseLost}, S::kPending},
    {{S::kRunning, E::kCancelled}, S::kCancelled},
};

TEST(TaskStateTest, EveryStateAndEvent) {
  for (S state : kStates) {
    for (E event : kEvents) {
      SCOPED_TRACE(std::string(taskStateName(state)) + " + " + taskEventName(event));
      Result<S> next = nextTaskState(state, event, 1, 3);
      auto it = kAllowed.find({state, event});
      if (it == kAllowed.end()) {
        ASSERT_FALSE(next.ok()) << "went to " << taskStateName(*next);
        EXPECT_EQ(next.error().code, ErrorCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(next.ok()) << next.error().message;
        EXPECT_EQ(*next, it->second);
      }
    }
  }
}

TEST(TaskStateTest, TerminalStatesRefuseEverything) {
  for (S state : {S::kSucceeded, S::kFailed, S::kCancelled}) {
    EXPECT_TRUE(isTerminal(state));
    for (E event : kEvents) EXPECT_FALSE(nextTaskState(state, event, 1, 3).ok());
  }
  for (S state : {S::kPending, S::kLeased, S::kRunning}) EXPECT_FALSE(isTerminal(state));
}

TEST(TaskStateTest, AttemptsExhaustionFailsTheTask) {
  for (S active : {S::kLeased, S::kRunning}) {
    for (E event : {E::kAttemptFailed, E::kLeaseLost}) {
      SCOPED_TRACE(std::string(taskStateName(active)) + " + " + taskEventName(event));
      EXPECT_EQ(*nextTaskState(active, event, 1, 3), S::kPending);
      EXPECT_EQ(*nextTaskState(active, event, 2, 3), S::kPending);
      EXPECT_EQ(*nextTaskState(active, event, 3, 3), S::kFailed);
      EXPECT_EQ(*nextTaskState(active, event, 4, 3), S::kFailed);  // defensive: over-counted
      EXPECT_EQ(*nextTaskState(active, event, 1, 1), S::kFailed);  // a single attempt
    }
  }
  // Success and cancellation do not depend on attempts.
  EXPECT_EQ(*nextTaskState(S::kRunning, E::kSucceeded, 3, 3), S::kSucceeded);
  EXPECT_EQ(*nextTaskState(S::kLeased, E::kCancelled, 3, 3), S::kCancelled);
}

TEST(TaskStateTest, AWholeLifeWithRetries) {
  // Booked, lost, booked again, failed, booked a third time, succeeded.
  S s = S::kPending;
  int attempts = 0;
  auto apply = [&](E e) {
    if (e == E::kBooked) ++attempts;
    Result<S> next = nextTaskState(s, e, attempts, 3);
    ASSERT_TRUE(next.ok()) << next.error().message;
    s = *next;
  };
  apply(E::kBooked);
  apply(E::kLeaseLost);
  EXPECT_EQ(s, S::kPending);
  apply(E::kBooked);
  apply(E::kStarted);
  apply(E::kAttemptFailed);
  EXPECT_EQ(s, S::kPending);
  apply(E::kBooked);
  apply(E::kStarted);
  apply(E::kSucceeded);
  EXPECT_EQ(s, S::kSucceeded);
  EXPECT_EQ(attempts, 3);
}

TEST(TaskStateTest, NamesRoundTrip) {
  for (S state : kStates) {
    auto parsed = parseTaskState(taskStateName(state));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_FALSE(parseTaskState("done").ok());
  EXPECT_FALSE(parseTaskState("").ok());
  EXPECT_FALSE(parseTaskState("unknown").ok());
}

struct JobCase {
  TaskCounts counts;
  JobState want;
};

TaskCounts counts(int pending, int leased, int running, int succeeded, int failed, int cancelled) {
  TaskCounts c;
  c.pending = pending;
  c.leased = leased;
  c.running = running;
  c.succeeded = succeeded;
  c.failed = failed;
  c.cancelled = cancelled;
  return c;
}

TEST(DeriveJobStateTest, Table) {
  const std::vector<JobCase> cases = {
      {counts(0, 0, 0, 0, 0, 0), JobState::kQueued},
      {counts(5, 0, 0, 0, 0, 0), JobState::kQueued},
      {counts(4, 1, 0, 0, 0, 0), JobState::kRunning},
      {counts(4, 0, 1, 0, 0, 0), JobState::kRunning},
      {counts(4, 0, 0, 1, 0, 0), JobState::kRunning},  // some work done, the rest waits
      {counts(4, 0, 0, 0, 1, 0), JobState::kRunning},  // a failed task does not stop the rest
      {counts(0, 0, 1, 0, 3, 0), JobState::kRunning},
      {counts(0, 0, 0, 5, 0, 0), JobState::kSucceeded},
      {counts(0, 0, 0, 4, 1, 0), JobState::kFailed},
      {counts(0, 0, 0, 0, 5, 0), JobState::kFailed},
      {counts(0, 0, 0, 4, 0, 1), JobState::kCancelled},
      {counts(0, 0, 0, 0, 0, 5), JobState::kCancelled},
      {counts(0, 0, 0, 2, 2, 1), JobState::kCancelled},  // cancellation wins over failure
  };
  for (const JobCase& c : cases) {
    const TaskCounts& n = c.counts;
    SCOPED_TRACE(std::to_string(n.pending) + "/" + std::to_string(n.leased) + "/" +
                 std::to_string(n.running) + "/" + std::to_string(n.succeeded) + "/" +
                 std::to_string(n.failed) + "/" + std::to_string(n.cancelled));
    EXPECT_STREQ(jobStateName(deriveJobState(n)), jobStateName(c.want));
  }
  EXPECT_EQ(counts(1, 2, 3, 4, 5, 6).total(), 21);
}

}  // namespace
}  // namespace dcloud::core
