// Completions that arrive together: successes share one transaction (group commit), the others
// take the per-task path, and either way each attempt is charged once, repeats and stale attempts
// are refused on their own, and a job ends exactly when its last task does, whichever
// transaction finishes it, in this scheduler or another one on the same database.
#include <future>
#include <thread>

#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

class CompletionBatchTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    fund(owner_.id(), 1000 * kMicrosPerCredit);
    worker_ = registerWorker(provider_, kTasks, "0.5");
  }

  static constexpr int kTasks = 16;

  // A render job of kTasks one-frame tasks, all leased to the worker.
  std::vector<Lease> leasedJob(const std::string& extra = "") {
    const std::string scene = "s3://" + ownerBucket(owner_) + "/s.blend";
    job_ = submit(owner_, R"({"kind": "render", "scene": ")" + scene + R"(", "frames": "1-)" +
                              std::to_string(kTasks) + R"(", "max_price": "1",
                              "resources": {"cores": 1, "memory_mb": 256})" +
                              extra + "}");
    EXPECT_EQ(*dispatcher_->planOnce(), kTasks);
    std::vector<Lease> leases = lease(provider_, worker_, 0);
    EXPECT_EQ(leases.size(), static_cast<std::size_t>(kTasks));
    return leases;
  }

  Completion completionFor(const Lease& l, bool succeeded) {
    Completion c;
    c.worker_id = worker_;
    c.task_id = l.task_id;
    c.attempt_id = l.attempt_id;
    c.succeeded = succeeded;
    c.exit_code = succeeded ? 0 : 3;
    c.error = succeeded ? "" : "exit \"3\" \\ said: {no}";  // quoted in the batch's arrays
    c.outputs = {"frames/\"0001\".png"};
    c.receipt = receiptFor(provider_, worker_, l, 1000);
    c.receipt_signature = signReceipt(c.receipt, provider_);
    c.receipt_json = toJson(receiptToJson(c.receipt));
    return c;
  }

  // Completes each lease from its own thread, all at once, through the HTTP API; the responses
  // in lease order.
  std::vector<HttpResult> completeAtOnce(const std::vector<Lease>& leases) {
    std::vector<std::future<HttpResult>> calls;
    for (const Lease& l : leases) {
      calls.push_back(std::async(std::launch::async, [this, l] {
        return complete(provider_, worker_, l, receiptFor(provider_, worker_, l, 1000), provider_);
      }));
    }
    std::vector<HttpResult> out;
    for (auto& c : calls) out.push_back(c.get());
    return out;
  }

  std::string jobState() {
    return sqlText("SELECT state FROM scheduler.jobs WHERE id = '" + job_ + "'");
  }
  std::int64_t charges() {
    return sqlInt("SELECT COUNT(*) FROM scheduler.outbox WHERE job_id = '" + job_ + "'");
  }
  int finishedEvents() {
    events_->flush();
    auto events = events_->read(job_, "0", 0);
    EXPECT_TRUE(events.ok());
    int n = 0;
    for (const auto& e : events.ok() ? *events : std::vector<JobEvent>{}) {
      n += e.type == "job.finished";
    }
    return n;
  }

  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
  std::string worker_;
  std::string job_;
};

TEST_F(CompletionBatchTest, TasksFinishingTogetherEndTheirJobOnceAndAreEachChargedOnce) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::vector<Lease> leases = leasedJob();
    for (const HttpResult& r : completeAtOnce(leases)) {
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(json(r)->getValue<std::string>("task_state"), "succeeded");
    }
    EXPECT_EQ(jobState(), "succeeded");
    EXPECT_EQ(charges(), kTasks);
    EXPECT_EQ(finishedEvents(), 1);
    EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.tasks WHERE job_id = '" + job_ +
                     "' AND state = 'succeeded' AND exit_code = 0 AND finished_at IS NOT NULL"),
              kTasks);
  }
}

TEST_F(CompletionBatchTest, TwoSchedulersFinishingOneJobsLastTasksTogetherEndIt) {
  // Each store group-commits on its own; the job's last tasks end in two transactions at once,
  // each of which must not take the other's task for still active.
  SchedulerStore other(*pool_);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::vector<Lease> leases = leasedJob();
    std::vector<Completion> completions;
    for (const Lease& l : leases) completions.push_back(completionFor(l, true));
    std::vector<std::future<Result<CompletionResult>>> calls;
    for (std::size_t i = 0; i < completions.size(); ++i) {
      SchedulerStore& store = i % 2 ? other : *store_;
      calls.push_back(std::async(std::launch::async,
                                 [&store, &c = completions[i]] { return store.completeTask(c); }));
    }
    int ended = 0;
    for (auto& call : calls) {
      auto r = call.get();
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->task_state, "succeeded");
      ended += r->job_state == "succeeded";
    }
    EXPECT_EQ(ended, 1) << "exactly one completion ends the job";
    EXPECT_EQ(jobState(), "succeeded");
    EXPECT_EQ(charges(), kTasks);
    EXPECT_EQ(
        sqlText("SELECT outputs::text FROM scheduler.tasks WHERE id = '" + leases[0].task_id + "'"),
        R"(["frames/\"0001\".png"])");
  }
}

TEST_F(CompletionBatchTest, FailuresAmongSuccessesTakeTheirOwnPathAndTheJobStillEndsOnce) {
  const std::vector<Lease> leases = leasedJob(R"(, "max_attempts": 1)");
  std::vector<Completion> completions;
  for (std::size_t i = 0; i < leases.size(); ++i) {
    completions.push_back(completionFor(leases[i], i % 3 != 0));
  }
  std::vector<std::future<Result<CompletionResult>>> calls;
  for (const Completion& c : completions) {
    calls.push_back(std::async(std::launch::async, [this, &c] { return store_->completeTask(c); }));
  }
  int ended = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto r = calls[i].get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->task_state, i % 3 != 0 ? "succeeded" : "failed");
    ended += r->job_state == "failed";
  }
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(jobState(), "failed");
  EXPECT_EQ(charges(), kTasks);
  EXPECT_EQ(sqlText("SELECT error FROM scheduler.tasks WHERE id = '" + leases[0].task_id + "'"),
            "exit \"3\" \\ said: {no}");
}

TEST_F(CompletionBatchTest, RepeatsAndStaleAttemptsArriveTogetherWithValidOnesAndAreRefusedAlone) {
  const std::vector<Lease> leases = leasedJob();
  std::vector<Completion> completions;
  for (const Lease& l : leases) completions.push_back(completionFor(l, true));
  completions.push_back(completions[0]);  // the same attempt reported twice
  completions.push_back(completions[1]);
  Lease stale = leases[2];
  stale.attempt_id = SecureRandom::instance().uuid();
  completions.push_back(completionFor(stale, true));
  std::vector<std::future<Result<CompletionResult>>> calls;
  for (const Completion& c : completions) {
    calls.push_back(std::async(std::launch::async, [this, &c] { return store_->completeTask(c); }));
  }
  std::map<std::string, int> accepted, refused;  // by attempt
  for (std::size_t i = 0; i < calls.size(); ++i) {
    auto r = calls[i].get();
    if (r.ok()) {
      ++accepted[completions[i].attempt_id];
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kConflict) << r.error().message;
      ++refused[completions[i].attempt_id];
    }
  }
  EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [attempt, n] : accepted) EXPECT_EQ(n, 1) << attempt;
  EXPECT_EQ(refused[leases[0].attempt_id], 1);
  EXPECT_EQ(refused[leases[1].attempt_id], 1);
  EXPECT_EQ(refused[stale.attempt_id], 1);
  EXPECT_EQ(jobState(), "succeeded");
  EXPECT_EQ(charges(), kTasks);
}

}  // namespace
}  // namespace dcloud::scheduler::testing
