// Job-model corners against real PostgreSQL and Redis: a requeued dependency blocks its
// dependents again, a job that only blocklisted workers could run says so, and expired backup
// placements give their disk back (on the ManualClock).
#include "tests/integration/scheduler/job_model_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

std::int64_t intField(const JsonObject& o, const std::string& key) {
  auto v = getOptionalInt(o, key);
  return v.ok() ? v->value_or(0) : -1;
}

TEST_F(JobModelTest, RequeuingASucceededJobMakesItsPendingDependentsWaitAgain) {
  const std::string worker = registerWorker(provider_, 8, "0.5");
  const std::string a = submit(owner_, commandJob("1"));
  const std::string b = submit(owner_, commandJob("1", R"(, "after": [")" + a + R"("])"));
  const std::string c = submit(owner_, commandJob("1", R"(, "after": [")" + a + R"("])"));
  ASSERT_EQ(plan(), 1) << "only a is ready";
  ASSERT_EQ(succeed(worker, lease(provider_, worker, 0)[0]).status, 200);
  EXPECT_EQ(state(a), "succeeded");
  // c starts; b is ready but not booked yet.
  ASSERT_EQ(sqlInt("SELECT blockers FROM scheduler.jobs WHERE id = '" + b + "'"), 0);
  ASSERT_EQ(post(owner_, "/v1/jobs/" + b + "/pause", "").status, 200);
  ASSERT_EQ(plan(), 1);
  Lease lc = lease(provider_, worker, 0)[0];
  EXPECT_EQ(lc.job_id, c);
  ASSERT_EQ(post(owner_, "/v1/jobs/" + b + "/resume", "").status, 200);

  ASSERT_EQ(post(owner_, "/v1/jobs/" + a + "/tasks/0/requeue", "").status, 200);
  EXPECT_EQ(state(a), "queued");
  EXPECT_EQ(intField(job(owner_, b), "waiting_for_jobs"), 1) << "b waits for a again";
  EXPECT_EQ(taskField(c, 0, "state"), "leased") << "c had started: left alone";
  ASSERT_EQ(plan(), 1) << "a runs again; b does not run before it";
  Lease again = lease(provider_, worker, 0)[0];
  EXPECT_EQ(again.job_id, a);
  EXPECT_EQ(taskField(b, 0, "state"), "pending");
  ASSERT_EQ(succeed(worker, again).status, 200);
  EXPECT_EQ(intField(job(owner_, b), "waiting_for_jobs"), 0);
  ASSERT_EQ(plan(), 1) << "b follows a's second success";
  EXPECT_EQ(lease(provider_, worker, 0)[0].job_id, b);
  ASSERT_EQ(succeed(worker, lc).status, 200);
  EXPECT_EQ(state(c), "succeeded");
}

TEST_F(JobModelTest, RequeuingASucceededTaskMakesItsPendingDependentTasksWaitAgain) {
  const std::string worker = registerWorker(provider_, 8, "0.5");
  const std::string scene = "s3://" + ownerBucket(owner_) + "/s.blend";
  auto render = [&](const std::string& extra) {
    return submit(owner_, R"({"kind": "render", "scene": ")" + scene +
                              R"(", "frames": "1-2", "max_price": "1",
                              "resources": {"cores": 1, "memory_mb": 512})" +
                              extra + "}");
  };
  const std::string a = render("");
  const std::string b = render(R"(, "task_after": [{"job": ")" + a + R"("}])");
  ASSERT_EQ(plan(), 2);
  for (const Lease& l : lease(provider_, worker, 0)) ASSERT_EQ(succeed(worker, l).status, 200);
  // b's task 1 starts; its task 0 is ready but not booked yet.
  execSql(
      "UPDATE scheduler.tasks SET not_before_ms = " + std::to_string(clock_.nowMillis() + 60'000) +
      " WHERE job_id = '" + b + "' AND index = 0");
  ASSERT_EQ(plan(), 1);
  Lease b1 = lease(provider_, worker, 0)[0];
  EXPECT_EQ(*getInt(b1.raw, "frame_first"), 2);
  execSql("UPDATE scheduler.tasks SET not_before_ms = 0 WHERE job_id = '" + b + "'");

  // Both of a's tasks run again: b's task 0 waits for a's task 0 again, b's task 1 runs on.
  ASSERT_EQ(post(owner_, "/v1/jobs/" + a + "/tasks/0/requeue", "").status, 200);
  ASSERT_EQ(post(owner_, "/v1/jobs/" + a + "/tasks/1/requeue", "").status, 200);
  EXPECT_EQ(taskField(b, 0, "state"), "pending");
  EXPECT_EQ(intField((*getOptionalArray(job(owner_, b), "tasks")).value()->getObject(0),
                     "waiting_for_tasks"),
            1);
  EXPECT_EQ(taskField(b, 1, "state"), "leased");
  ASSERT_EQ(plan(), 2) << "a's two tasks, not b's task 0";
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 2u);
  for (const Lease& l : leases) EXPECT_EQ(l.job_id, a);
  const Lease& a0 = *getInt(leases[0].raw, "frame_first") == 1 ? leases[0] : leases[1];
  ASSERT_EQ(succeed(worker, a0).status, 200);
  ASSERT_EQ(plan(), 1) << "b's task 0 follows a's task 0";
  EXPECT_EQ(lease(provider_, worker, 0)[0].job_id, b);
}

TEST_F(JobModelTest, AJobOnlyBlocklistedWorkersCouldRunSaysSo) {
  const std::string bad = registerWorker(provider_, 4, "0.1");
  const std::string job_id = submitAndFailTwiceOn(bad);
  if (HasFailure()) return;
  EXPECT_EQ(plan(), 0);
  const std::string reason = "every fitting worker is blocklisted for this job after 2 failure(s)";
  EXPECT_EQ(state(job_id), "queued");
  auto wait_reason = getOptionalString(job(owner_, job_id), "wait_reason");
  ASSERT_TRUE(wait_reason.ok());
  EXPECT_EQ(wait_reason->value_or(""), reason);
  // A worker too small for the job changes nothing; one that fits takes it, and the reason goes.
  registerWorker(provider_, 4, "0.1", 256);
  EXPECT_EQ(plan(), 0);
  EXPECT_EQ(getOptionalString(job(owner_, job_id), "wait_reason")->value_or(""), reason);
  const std::string good = registerWorker(provider_, 4, "0.9");
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(lease(provider_, good, 0)[0].job_id, job_id);
  EXPECT_EQ(getOptionalString(job(owner_, job_id), "wait_reason")->value_or(""), "");
  EXPECT_EQ(sqlText("SELECT wait_reason FROM scheduler.jobs WHERE id = '" + job_id + "'"), "");
}

TEST_F(JobModelTest, TheBlocklistReasonGoesWhenAnotherFittingWorkerIsMerelyBusy) {
  const std::string bad = registerWorker(provider_, 1, "0.1");
  const std::string job_id =
      submit(owner_, commandJob("1", R"(, "max_attempts": 5, "retry_backoff_seconds": 0,
                                       "blocklist_after": 1)"));
  ASSERT_EQ(plan(), 1);
  ASSERT_EQ(fail(bad, lease(provider_, bad, 0)[0]).status, 200);
  EXPECT_EQ(plan(), 0);
  EXPECT_EQ(getOptionalString(job(owner_, job_id), "wait_reason")->value_or(""),
            "every fitting worker is blocklisted for this job after 1 failure(s)");
  // Another job takes all of a new worker first; the blocked job could run there later.
  ASSERT_EQ(post(owner_, "/v1/jobs/" + job_id + "/pause", "").status, 200);
  const std::string other =
      submit(owner_, R"({"kind": "command", "command": ["true"], "max_price": "5",
                         "resources": {"cores": 2, "memory_mb": 512}})");
  const std::string good = registerWorker(provider_, 2, "0.5");
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(lease(provider_, good, 0)[0].job_id, other);
  ASSERT_EQ(post(owner_, "/v1/jobs/" + job_id + "/resume", "").status, 200);
  EXPECT_EQ(plan(), 0) << "the good worker is busy";
  EXPECT_EQ(getOptionalString(job(owner_, job_id), "wait_reason")->value_or(""), "")
      << "not the blocklist's doing any more";
}

TEST_F(JobModelTest, ExpiredBackupPlacementsGiveTheirDiskBack) {
  HttpResult registered =
      post(provider_, "/v1/workers",
           R"({"hostname": "disk-host", "cores": 4, "memory_mb": 8192, "disk_mb": 153600,
               "prices": {"cpu": "0.5", "disk": "0.01"}})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string worker = *getString(json(registered), "worker_id");
  const std::string backup =
      R"({"kind": "backup", "capacity_gb": 100, "replicas": 1, "duration_days": 30,
          "max_price": "0.05"})";
  const std::string first = submit(owner_, backup);
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(state(first), "succeeded");
  EXPECT_EQ(*getString(job(owner_, first), "contract"), "active");
  const std::string second = submit(owner_, backup);
  EXPECT_EQ(plan(), 0) << "50 GB left of 150";

  // One day short of the contract: nothing is released.
  const std::int64_t day = 24LL * 3600 * 1000;
  manual_clock_.advanceMillis(29 * day);
  ASSERT_EQ(heartbeat(provider_, worker, {}).status, 200);
  ASSERT_TRUE(dispatcher_->reapOnce().ok());
  EXPECT_EQ(plan(), 0);
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.placements WHERE released_at IS NOT NULL"), 0);

  // Past it: the reaper releases the placement, and its disk takes the waiting backup.
  manual_clock_.advanceMillis(day + 60'000);
  ASSERT_EQ(heartbeat(provider_, worker, {}).status, 200);
  ASSERT_TRUE(dispatcher_->reapOnce().ok());
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.placements WHERE released_at IS NOT NULL"), 1);
  ASSERT_EQ(plan(), 1);
  EXPECT_EQ(state(second), "succeeded");
  JsonObject expired = job(owner_, first);
  EXPECT_EQ(*getString(expired, "state"), "succeeded");
  EXPECT_EQ(*getString(expired, "contract"), "expired");
  auto placements = *getOptionalArray(expired, "placements");
  ASSERT_TRUE(placements.has_value());
  ASSERT_EQ((*placements)->size(), 1u);
  EXPECT_TRUE((*placements)->getObject(0)->has("released_at"));
  EXPECT_EQ(*getString(job(owner_, second), "contract"), "active");
  // The new placement runs 30 days from now on the scheduler's clock, not the database's.
  ASSERT_TRUE(dispatcher_->reapOnce().ok());
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.placements WHERE released_at IS NULL"), 1);
}

}  // namespace
}  // namespace dcloud::scheduler::testing
