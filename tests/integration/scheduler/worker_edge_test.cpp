// Edge cases of the worker protocol: ids that are not UUIDs, a provider claiming more wall time
// than the job's timeout, and leases lost in transit using up attempts.
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

const std::string kNotUuid = "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz";  // 36 characters

class WorkerEdgeTest : public SchedulerTest {
 protected:
  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
};

TEST_F(WorkerEdgeTest, IdsThatAreNotUuidsAreBadRequests) {
  const std::string worker = registerWorker(provider_, 2, "1");
  EXPECT_EQ(post(provider_, "/v1/workers/" + kNotUuid + "/lease", R"({"wait_ms": 0})").status, 400);
  EXPECT_EQ(post(provider_, "/v1/workers/" + kNotUuid + "/heartbeat", "{}").status, 400);
  EXPECT_EQ(heartbeat(provider_, worker, {kNotUuid}).status, 400);
  EXPECT_EQ(post(provider_, "/v1/workers/" + worker + "/tasks/" + kNotUuid + "/progress",
                 R"({"attempt_id": ")" + random_.uuid() + R"("})")
                .status,
            400);
  EXPECT_EQ(post(provider_, "/v1/workers/" + worker + "/tasks/" + random_.uuid() + "/progress",
                 R"({"attempt_id": ")" + kNotUuid + R"("})")
                .status,
            400);
  EXPECT_EQ(get(owner_, "/v1/jobs/" + kNotUuid).status, 400);
  EXPECT_EQ(get(owner_, "/v1/jobs/" + random_.uuid()).status, 404);
  // A bogus worker id in a completion is refused before anything is read.
  Lease fake{random_.uuid(), random_.uuid(), random_.uuid(), nullptr};
  EXPECT_EQ(
      complete(provider_, kNotUuid, fake, receiptFor(provider_, kNotUuid, fake, 1000), provider_)
          .status,
      400);
  Lease bad_attempt{random_.uuid(), kNotUuid, random_.uuid(), nullptr};
  EXPECT_EQ(complete(provider_, worker, bad_attempt,
                     receiptFor(provider_, worker, bad_attempt, 1000), provider_)
                .status,
            400);
  EXPECT_EQ(outboxRows(), 0);
}

TEST_F(WorkerEdgeTest, WallTimeIsBilledAtMostUpToTheTimeout) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 2, "0.5");
  submit(owner_, R"({"kind": "command", "command": ["sleep", "1"], "max_price": "1",
                     "timeout_seconds": 600, "resources": {"cores": 1, "memory_mb": 512}})");
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  std::vector<Lease> leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  // The provider claims ten hours for a task killed after ten minutes.
  HttpResult done =
      complete(provider_, worker, leases[0],
               receiptFor(provider_, worker, leases[0], 10LL * 3600 * 1000), provider_);
  ASSERT_EQ(done.status, 200) << done.body;
  // 0.5 per hour for 600 s = 0.083333.. rounded up; never more than the escrow per task.
  EXPECT_EQ(*getString(json(done), "cost"), "0.083334");
  EXPECT_EQ(sqlInt("SELECT amount FROM scheduler.outbox"), 83'334);
  EXPECT_LE(sqlInt("SELECT amount FROM scheduler.outbox"),
            sqlInt("SELECT hold FROM scheduler.jobs"));
}

class LeaseInTransitTest : public WorkerEdgeTest {
 protected:
  HarnessOptions options() const override {
    HarnessOptions o;
    o.lost_lease_grace_seconds = 0;
    return o;
  }
};

TEST_F(LeaseInTransitTest, LeaseTheWorkerNeverReportsIsRequeuedUntilAttemptsRunOut) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 2, "0.5");
  const std::string job_id = submit(owner_, commandJob("1", R"(, "max_attempts": 2)"));
  auto taskState = [&] {
    return sqlText("SELECT state FROM scheduler.tasks WHERE job_id = '" + job_id + "'");
  };
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  ASSERT_EQ(lease(provider_, worker, 0).size(), 1u);
  // The worker heartbeats without the attempt it was handed: the lease was lost on the way.
  ASSERT_EQ(heartbeat(provider_, worker, {}).status, 200);
  EXPECT_EQ(taskState(), "pending");
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  ASSERT_EQ(lease(provider_, worker, 0).size(), 1u);
  ASSERT_EQ(heartbeat(provider_, worker, {}).status, 200);
  EXPECT_EQ(taskState(), "failed") << "a second lost lease uses up max_attempts = 2";
  EXPECT_EQ(sqlInt("SELECT attempts FROM scheduler.tasks"), 2);
  EXPECT_EQ(*getString(job(owner_, job_id), "state"), "failed");
  EXPECT_EQ(*dispatcher_->planOnce(), 0);
}

}  // namespace
}  // namespace dcloud::scheduler::testing
