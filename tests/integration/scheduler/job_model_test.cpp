// The deeper job model against real PostgreSQL and Redis through the HTTP API, on a ManualClock:
// retries with backoff, per-job blocklists, pause and resume, requeue, dependencies (and failure
// propagation), preemption, the per-owner queue cap and bad bids.
#include "tests/integration/scheduler/job_model_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

TEST_F(JobModelTest, FailedAttemptsRetryAfterAnExponentialBackoff) {
  const std::string worker = registerWorker(provider_, 4, "0.5");
  const std::string job_id =
      submit(owner_, commandJob("1", R"(, "max_attempts": 3, "retry_backoff_seconds": 10,
                                       "blocklist_after": 0)"));
  ASSERT_EQ(plan(), 1);
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(fail(worker, leases[0]).status, 200);
  EXPECT_EQ(taskField(job_id, 0, "state"), "pending");
  // In backoff: not booked until 10 s have passed on the scheduler's clock.
  EXPECT_EQ(sqlInt("SELECT not_before_ms FROM scheduler.tasks"), clock_.nowMillis() + 10'000);
  EXPECT_EQ(plan(), 0);
  manual_clock_.advanceMillis(9'000);
  EXPECT_EQ(plan(), 0);
  manual_clock_.advanceMillis(1'001);
  ASSERT_EQ(plan(), 1);
  leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(fail(worker, leases[0]).status, 200);
  // The second failure doubles it.
  manual_clock_.advanceMillis(19'000);
  EXPECT_EQ(plan(), 0);
  manual_clock_.advanceMillis(1'001);
  ASSERT_EQ(plan(), 1);
  leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(fail(worker, leases[0]).status, 200);
  EXPECT_EQ(state(job_id), "failed") << "three attempts used";
  EXPECT_EQ(outboxRows(), 3) << "every attempt is billed";
}

TEST_F(JobModelTest, AWorkerThatFailsAJobTwiceGetsNoMoreOfIt) {
  const std::string bad = registerWorker(provider_, 4, "0.1");  // cheapest: always chosen
  const std::string job_id = submitAndFailTwiceOn(bad);
  if (HasFailure()) return;
  EXPECT_EQ(plan(), 0) << "the only worker is blocklisted for this job";
  // Another job of the same owner still runs there; a new worker gets the blocked job.
  const std::string other = submit(owner_, commandJob("1"));
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(lease(provider_, bad, 0)[0].job_id, other);
  const std::string good = registerWorker(provider_, 4, "0.9");
  ASSERT_EQ(plan(), 1);
  auto leases = lease(provider_, good, 0);
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].job_id, job_id);
}

TEST_F(JobModelTest, PausedJobsBookNothingUntilResumed) {
  const std::string worker = registerWorker(provider_, 1, "0.5");
  const std::string job_id = submit(
      owner_,
      R"({"kind": "render", "scene": "s3://)" + ownerBucket(owner_) +
          R"(/s.blend", "frames": "1-2", "max_price": "1", "resources": {"cores": 1, "memory_mb": 512}})");
  ASSERT_EQ(plan(), 1);
  auto running = lease(provider_, worker, 0);
  ASSERT_EQ(running.size(), 1u);
  HttpResult paused = post(owner_, "/v1/jobs/" + job_id + "/pause", "");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_TRUE(*getOptionalBool(json(paused), "paused"));
  // The running task finishes; the other is not booked while paused.
  ASSERT_EQ(succeed(worker, running[0]).status, 200);
  EXPECT_EQ(plan(), 0);
  EXPECT_EQ(post(owner_, "/v1/jobs/" + job_id + "/resume", "").status, 200);
  EXPECT_EQ(plan(), 1);
  // Foreign and finished jobs are refused.
  KeyPair stranger = KeyPair::generate();
  EXPECT_EQ(post(stranger, "/v1/jobs/" + job_id + "/pause", "").status, 404);
  ASSERT_EQ(succeed(worker, lease(provider_, worker, 0)[0]).status, 200);
  EXPECT_EQ(state(job_id), "succeeded");
  EXPECT_EQ(post(owner_, "/v1/jobs/" + job_id + "/pause", "").status, 409);
}

TEST_F(JobModelTest, RequeueRunsAFinishedTaskAgainAndStopsARunningOne) {
  const std::string worker = registerWorker(provider_, 4, "0.5");
  const std::string job_id = submit(owner_, commandJob("1"));
  ASSERT_EQ(plan(), 1);
  Lease first = lease(provider_, worker, 0)[0];
  ASSERT_EQ(succeed(worker, first).status, 200);
  EXPECT_EQ(state(job_id), "succeeded");
  EXPECT_EQ(post(owner_, "/v1/jobs/" + job_id + "/tasks/1/requeue", "").status, 404);
  EXPECT_EQ(post(owner_, "/v1/jobs/" + job_id + "/tasks/x/requeue", "").status, 400);
  ASSERT_EQ(post(owner_, "/v1/jobs/" + job_id + "/tasks/0/requeue", "").status, 200);
  EXPECT_EQ(post(owner_, "/v1/jobs/" + job_id + "/tasks/0/requeue", "").status, 409)
      << "already pending";
  EXPECT_EQ(taskField(job_id, 0, "state"), "pending");
  ASSERT_EQ(plan(), 1);
  Lease second = lease(provider_, worker, 0)[0];
  // Requeued while running: the worker is told to stop, its completion is billed once and
  // changes nothing; a new attempt gets the task.
  HttpResult r = post(owner_, "/v1/jobs/" + job_id + "/tasks/0/requeue", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*getString(json(r), "stopped_attempt"), second.attempt_id);
  auto cancel =
      getOptionalStringList(json(heartbeat(provider_, worker, {second.attempt_id})), "cancel");
  ASSERT_TRUE(cancel.ok() && cancel->has_value());
  EXPECT_EQ(**cancel, std::vector<std::string>{second.attempt_id});
  const std::int64_t billed = outboxRows();
  ASSERT_EQ(succeed(worker, second).status, 200);
  EXPECT_EQ(outboxRows(), billed + 1);
  EXPECT_EQ(succeed(worker, second).status, 409) << "billed once";
  EXPECT_EQ(taskField(job_id, 0, "state"), "pending");
  ASSERT_EQ(plan(), 1);
  ASSERT_EQ(succeed(worker, lease(provider_, worker, 0)[0]).status, 200);
  EXPECT_EQ(state(job_id), "succeeded");
}

TEST_F(JobModelTest, DependenciesWaitForSuccessAndFailuresPropagate) {
  const std::string worker = registerWorker(provider_, 8, "0.5");
  const std::string a = submit(owner_, commandJob("1", R"(, "max_attempts": 1)"));
  const std::string b =
      submit(owner_, commandJob("1", R"(, "max_attempts": 1, "after": [")" + a + R"("])"));
  const std::string c = submit(owner_, commandJob("1", R"(, "after": [")" + b + R"("])"));
  EXPECT_EQ(*getOptionalInt(job(owner_, b), "waiting_for_jobs"), 1);
  ASSERT_EQ(plan(), 1) << "only a is ready";
  Lease la = lease(provider_, worker, 0)[0];
  EXPECT_EQ(la.job_id, a);
  ASSERT_EQ(succeed(worker, la).status, 200);
  ASSERT_EQ(plan(), 1) << "b became ready";
  Lease lb = lease(provider_, worker, 0)[0];
  EXPECT_EQ(lb.job_id, b);
  ASSERT_EQ(fail(worker, lb).status, 200);
  EXPECT_EQ(state(b), "failed");
  EXPECT_EQ(state(c), "cancelled") << "c waited for b, which failed";
  EXPECT_NE(taskField(c, 0, "error").find(b), std::string::npos) << taskField(c, 0, "error");
  // Refused at submit: unknown ids, other owners' jobs, failed jobs, bad task indexes.
  KeyPair stranger = KeyPair::generate();
  fund(stranger.id(), 100 * kMicrosPerCredit);
  const std::string theirs = submit(stranger, commandJob("1"));
  for (const std::string& extra :
       std::vector<std::string>{R"(, "after": ["00000000-0000-0000-0000-000000000000"])",
                                R"(, "after": [")" + theirs + R"("])",
                                R"(, "after": [")" + b + R"("])", R"(, "after": ["not-a-uuid"])",
                                R"(, "task_after": [{"job": ")" + a + R"(", "task": 3}])"}) {
    SCOPED_TRACE(extra);
    HttpResult r = post(owner_, "/v1/jobs", commandJob("1", extra));
    EXPECT_EQ(r.status, 400) << r.body;
  }
}

TEST_F(JobModelTest, TaskAfterTaskRunsFrameByFrame) {
  const std::string worker = registerWorker(provider_, 8, "0.5");
  const std::string scene = "s3://" + ownerBucket(owner_) + "/s.blend";
  auto render = [&](const std::string& extra) {
    return submit(owner_, R"({"kind": "render", "scene": ")" + scene +
                              R"(", "frames": "1-2", "max_price": "1", "max_attempts": 1,
                              "resources": {"cores": 1, "memory_mb": 512})" +
                              extra + "}");
  };
  const std::string a = render("");
  const std::string b = render(R"(, "task_after": [{"job": ")" + a + R"("}])");
  ASSERT_EQ(plan(), 2) << "a's two tasks; b's wait";
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 2u);
  const Lease& a0 = *getInt(leases[0].raw, "frame_first") == 1 ? leases[0] : leases[1];
  const Lease& a1 = *getInt(leases[0].raw, "frame_first") == 1 ? leases[1] : leases[0];
  ASSERT_EQ(succeed(worker, a0).status, 200);
  ASSERT_EQ(plan(), 1) << "b's task 0 follows a's task 0";
  auto b0 = lease(provider_, worker, 0);
  ASSERT_EQ(b0.size(), 1u);
  EXPECT_EQ(b0[0].job_id, b);
  EXPECT_EQ(*getInt(b0[0].raw, "frame_first"), 1);
  ASSERT_EQ(fail(worker, a1).status, 200);
  EXPECT_EQ(taskField(b, 1, "state"), "cancelled") << "a's task 1 failed";
}

TEST_F(JobModelTest, HigherPriorityPreemptsPreemptibleWork) {
  const std::string worker = registerWorker(provider_, 2, "0.5");
  const std::string low =
      submit(owner_, commandJob("1", R"(, "preemptible": true, "priority": 0, "max_attempts": 1)"));
  ASSERT_EQ(plan(), 1);
  Lease victim = lease(provider_, worker, 0)[0];
  EXPECT_EQ(victim.job_id, low);
  const std::string urgent =
      submit(owner_, R"({"kind": "command", "command": ["true"], "max_price": "2", "priority": 50,
                  "resources": {"cores": 2, "memory_mb": 512}})");
  ASSERT_EQ(plan(), 1) << "the preemption books it";
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].job_id, urgent);
  // The victim is pending again without having used its only attempt, and its worker is told.
  EXPECT_EQ(taskField(low, 0, "state"), "pending");
  EXPECT_EQ(
      *getInt((*getOptionalArray(job(owner_, low), "tasks")).value()->getObject(0), "attempts"), 0);
  auto cancel = getOptionalStringList(
      json(heartbeat(provider_, worker, {victim.attempt_id, leases[0].attempt_id})), "cancel");
  EXPECT_EQ(cancel->value(), std::vector<std::string>{victim.attempt_id});
  ASSERT_EQ(succeed(worker, leases[0]).status, 200);
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(lease(provider_, worker, 0)[0].job_id, low);
}

TEST_F(JobModelTest, BadInputIsRefusedClearly) {
  registerWorker(provider_, 4, "0.5");
  for (const char* bid : {"0", "-1", "NaN", "nan", "inf", "1e3", ""}) {
    SCOPED_TRACE(bid);
    HttpResult r = post(owner_, "/v1/jobs", commandJob(bid));
    EXPECT_EQ(r.status, 400) << r.body;
  }
  // Impossible requirements are accepted, queued with the reason shown.
  HttpResult r = post(owner_, "/v1/jobs",
                      R"({"kind": "train", "command": ["python3", "t.py"], "max_price": "50",
                          "resources": {"cores": 1, "memory_mb": 512, "gpus": 8}})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = *getString(json(r), "id");
  EXPECT_EQ(*getString(job(owner_, id), "wait_reason"),
            "no alive worker has 8 GPU(s) (the most: 0)");
  EXPECT_EQ(plan(), 0);
}

class QueueCapTest : public JobModelTest {
 protected:
  HarnessOptions options() const override {
    HarnessOptions o;
    o.max_queued_tasks_per_owner = 5;
    return o;
  }
};

TEST_F(QueueCapTest, AFloodFromOneOwnerLeavesOthersUnaffected) {
  const std::string scene = "s3://" + ownerBucket(owner_) + "/s.blend";
  const std::string four =
      R"({"kind": "render", "scene": ")" + scene +
      R"(", "frames": "1-4", "max_price": "1", "resources": {"cores": 1, "memory_mb": 512}})";
  submit(owner_, four);
  HttpResult r = post(owner_, "/v1/jobs", four);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("queue-full"), std::string::npos) << r.body;
  KeyPair other = KeyPair::generate();
  fund(other.id(), 100 * kMicrosPerCredit);
  submit(other, commandJob("1"));
  EXPECT_EQ(jobRows(), 2);
}

}  // namespace
}  // namespace dcloud::scheduler::testing
