// Workers and jobs end to end through the HTTP API: booking, long-poll leases with S3
// credentials from the real gateway, progress, signed completions billed once, stale attempts,
// lost workers, cancellation and the reputation floor.
#include <chrono>
#include <future>
#include <thread>

#include "common/s3_client.h"
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

std::string progressBody(const std::string& attempt) {
  return R"({"attempt_id": ")" + attempt + R"(", "frames_done": 0, "outputs": []})";
}

JsonObject onlyTask(const JsonObject& job) {
  auto tasks = getOptionalArray(job, "tasks");
  EXPECT_TRUE(tasks.ok() && tasks->has_value() && (**tasks)->size() == 1);
  if (!tasks.ok() || !tasks->has_value() || (**tasks)->size() != 1) {
    return JsonObject(new Poco::JSON::Object);
  }
  return (**tasks)->getObject(0);
}

class WorkerFlowTest : public SchedulerTest {
 protected:
  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
  KeyPair other_provider_ = KeyPair::generate();
};

TEST_F(WorkerFlowTest, RegistrationIsValidated) {
  struct Case {
    const char* name;
    std::string body;
  };
  for (const Case& c : std::vector<Case>{
           {"no cores", R"({"memory_mb": 1024, "prices": {"cpu": "1"}})"},
           {"zero cores", R"({"cores": 0, "memory_mb": 1024, "prices": {"cpu": "1"}})"},
           {"no prices", R"({"cores": 2, "memory_mb": 1024})"},
           {"numeric price", R"({"cores": 2, "memory_mb": 1024, "prices": {"cpu": 1}})"},
           {"negative price", R"({"cores": 2, "memory_mb": 1024, "prices": {"cpu": "-1"}})"},
           {"unknown field", R"({"cores": 2, "memory_mb": 1024, "prices": {"cpu": "1"}, "x": 1})"},
           {"malformed", R"({"cores": 2,)"},
       }) {
    SCOPED_TRACE(c.name);
    HttpResult r = post(provider_, "/v1/workers", c.body);
    EXPECT_EQ(r.status, 400) << r.body;
  }
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.workers"), 0);
  // Another provider cannot drive someone else's worker.
  const std::string worker = registerWorker(provider_, 2, "1");
  EXPECT_EQ(heartbeat(other_provider_, worker, {}).status, 403);
  EXPECT_EQ(post(other_provider_, "/v1/workers/" + worker + "/lease", R"({"wait_ms": 0})").status,
            403);
  EXPECT_EQ(heartbeat(provider_, worker, {}).status, 200);
}

TEST_F(WorkerFlowTest, CommandJobRunsAndIsBilledExactlyOnce) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 4, "0.5");
  const std::string job_id = submit(owner_, commandJob("1"));
  EXPECT_EQ(*getString(job(owner_, job_id), "state"), "queued");

  // The worker long-polls; the planning round wakes it through Redis.
  auto polled = std::async(std::launch::async, [&] { return lease(provider_, worker, 15000); });
  auto booked = dispatcher_->planOnce();
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  EXPECT_EQ(*booked, 1);
  std::vector<Lease> leases = polled.get();
  ASSERT_EQ(leases.size(), 1u);
  const Lease l = leases[0];
  EXPECT_EQ(l.job_id, job_id);
  EXPECT_EQ(*getString(l.raw, "price"), "0.5");
  EXPECT_EQ(*getString(l.raw, "owner"), owner_.id());
  EXPECT_TRUE(lease(provider_, worker, 0).empty()) << "a lease is delivered once";

  // The S3 credentials work on the gateway, for the job's output prefix only.
  JsonObject s3 = *getOptionalObject(l.raw, "s3").value();
  EXPECT_EQ(*getString(s3, "endpoint"), gateway_url_);
  S3Client storage(gateway_url_, {*getString(s3, "access_key"), *getString(s3, "secret_key")},
                   clock_);
  const std::string bucket = *getString(l.raw, "output_bucket");
  const std::string prefix = *getString(l.raw, "output_prefix");
  EXPECT_EQ(bucket, ownerBucket(owner_));
  EXPECT_EQ(prefix, "jobs/" + job_id + "/");
  Status put = storage.putObject(bucket, prefix + "result.txt", "hi\n");
  EXPECT_TRUE(put.ok()) << put.error().message;
  EXPECT_FALSE(storage.putObject(bucket, "elsewhere/result.txt", "x").ok());

  HttpResult progress =
      post(provider_, "/v1/workers/" + worker + "/tasks/" + l.task_id + "/progress",
           progressBody(l.attempt_id));
  EXPECT_EQ(progress.status, 200) << progress.body;
  EXPECT_EQ(*getString(job(owner_, job_id), "state"), "running");
  EXPECT_EQ(*getString(onlyTask(job(owner_, job_id)), "state"), "running");

  // Refused completions change nothing.
  const std::string other_worker = registerWorker(other_provider_, 4, "5");
  HttpResult not_held =
      complete(other_provider_, other_worker, l,
               receiptFor(other_provider_, other_worker, l, 60'000), other_provider_);
  EXPECT_EQ(not_held.status, 409) << not_held.body;
  HttpResult forged =
      complete(provider_, worker, l, receiptFor(provider_, worker, l, 60'000), other_provider_);
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(errorStatus(forged), "invalid-signature");
  HttpResult foreign = complete(other_provider_, worker, l,
                                receiptFor(other_provider_, worker, l, 60'000), other_provider_);
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  UsageReceipt wrong_task = receiptFor(provider_, worker, l, 60'000);
  wrong_task.task_id = random_.uuid();
  HttpResult mismatched = complete(provider_, worker, l, wrong_task, provider_);
  EXPECT_EQ(mismatched.status, 400) << mismatched.body;
  EXPECT_EQ(outboxRows(), 0);
  EXPECT_EQ(*getString(onlyTask(job(owner_, job_id)), "state"), "running");

  // One minute at 0.5 per hour: 0.008333.. rounded up to the micro.
  HttpResult done =
      complete(provider_, worker, l, receiptFor(provider_, worker, l, 60'000), provider_);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(*getString(json(done), "task_state"), "succeeded");
  EXPECT_EQ(*getString(json(done), "job_state"), "succeeded");
  EXPECT_EQ(*getString(json(done), "cost"), "0.008334");
  EXPECT_EQ(outboxRows(), 1);
  EXPECT_EQ(sqlInt("SELECT amount FROM scheduler.outbox"), 8334);
  EXPECT_EQ(sqlText("SELECT payer FROM scheduler.outbox"), owner_.id());
  EXPECT_EQ(sqlText("SELECT payee FROM scheduler.outbox"), provider_.id());
  EXPECT_EQ(sqlText("SELECT receipt_id::text FROM scheduler.outbox"), l.attempt_id);

  HttpResult again =
      complete(provider_, worker, l, receiptFor(provider_, worker, l, 60'000), provider_);
  EXPECT_EQ(again.status, 409) << again.body;
  HttpResult late_progress =
      post(provider_, "/v1/workers/" + worker + "/tasks/" + l.task_id + "/progress",
           progressBody(l.attempt_id));
  EXPECT_EQ(late_progress.status, 409) << late_progress.body;
  EXPECT_EQ(outboxRows(), 1);

  JsonObject view = job(owner_, job_id);
  EXPECT_EQ(*getString(view, "state"), "succeeded");
  EXPECT_EQ(*getString(view, "cost"), "0.008334");
  // The escrow is released; only the unsettled charge stays held.
  HttpResult account = get(owner_, "/v1/accounts/" + owner_.id());
  EXPECT_EQ(*getString(json(account), "held"), "0.008334");
}

TEST_F(WorkerFlowTest, CheapestWorkerGetsTheTask) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string dear = registerWorker(provider_, 4, "0.9");
  const std::string cheap = registerWorker(other_provider_, 4, "0.4");
  const std::string job_id = submit(owner_, commandJob("1"));
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  JsonObject task = onlyTask(job(owner_, job_id));
  EXPECT_EQ(*getString(task, "worker_id"), cheap);
  EXPECT_EQ(*getString(task, "price"), "0.4");
  EXPECT_TRUE(lease(provider_, dear, 0).empty());
  EXPECT_EQ(lease(other_provider_, cheap, 0).size(), 1u);
}

TEST_F(WorkerFlowTest, ACompletionFreesItsSlotInMemoryAndAReloadNeverCountsItTwice) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 1, "0.5");
  submit(owner_, commandJob("1"));
  submit(owner_, commandJob("1"));
  ASSERT_EQ(*dispatcher_->planOnce(), 1);  // one core
  EXPECT_EQ(*dispatcher_->planOnce(true, false), 0) << "the booked core is held in memory";
  std::vector<Lease> first = lease(provider_, worker, 0);
  ASSERT_EQ(first.size(), 1u);
  HttpResult done = complete(provider_, worker, first[0],
                             receiptFor(provider_, worker, first[0], 1000), provider_);
  ASSERT_EQ(done.status, 200) << done.body;
  // The completion went through this process's API: the next round books the freed core without
  // reading the offers again.
  EXPECT_EQ(*dispatcher_->planOnce(false, false), 1);
  std::vector<Lease> second = lease(provider_, worker, 0);
  ASSERT_EQ(second.size(), 1u);

  // A finish that reaches the dispatcher after a reload which already saw it committed must not
  // free the core a second time: complete outside the API (no report to the dispatcher), reload,
  // then report it late.
  Completion c;
  c.worker_id = worker;
  c.task_id = second[0].task_id;
  c.attempt_id = second[0].attempt_id;
  c.succeeded = true;
  c.receipt = receiptFor(provider_, worker, second[0], 1000);
  c.receipt_signature = signReceipt(c.receipt, provider_);
  c.receipt_json = toJson(receiptToJson(c.receipt));
  ASSERT_TRUE(store_->completeTask(c).ok());
  submit(owner_, commandJob("1"));
  submit(owner_, commandJob("1"));
  EXPECT_EQ(*dispatcher_->planOnce(), 1) << "the reload sees one free core";
  dispatcher_->attemptFinished(second[0].attempt_id);
  EXPECT_EQ(*dispatcher_->planOnce(false, false), 0) << "the late report frees nothing";
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.tasks WHERE state = 'leased'"), 1);
}

TEST_F(WorkerFlowTest, ACompletionCanAskForTheNextTaskInTheSameCall) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 1, "0.5");
  submit(owner_, commandJob("1"));
  submit(owner_, commandJob("1"));
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  std::vector<Lease> first = lease(provider_, worker, 0);
  ASSERT_EQ(first.size(), 1u);
  const UsageReceipt receipt = receiptFor(provider_, worker, first[0], 1000);

  // A malformed wait is refused before anything is recorded.
  JsonObject bad = new Poco::JSON::Object;
  bad->set("attempt_id", first[0].attempt_id);
  bad->set("status", "succeeded");
  bad->set("receipt", receiptToJson(receipt));
  bad->set("receipt_signature", signReceipt(receipt, provider_));
  bad->set("lease_wait_ms", "soon");
  EXPECT_EQ(post(provider_, "/v1/workers/" + worker + "/tasks/" + first[0].task_id + "/complete",
                 toJson(bad))
                .status,
            400);
  EXPECT_EQ(outboxRows(), 0);

  // The completion waits for the freed core to be booked again and returns that work with its
  // storage credentials.
  auto pending = std::async(std::launch::async, [&] {
    return complete(provider_, worker, first[0], receipt, provider_, 10'000);
  });
  for (int i = 0; i < 500 && outboxRows() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(outboxRows(), 1) << "the completion is recorded before the wait";
  ASSERT_EQ(*dispatcher_->planOnce(false, false), 1);
  HttpResult done = pending.get();
  ASSERT_EQ(done.status, 200) << done.body;
  JsonObject out = json(done);
  EXPECT_EQ(*getString(out, "task_state"), "succeeded");
  auto tasks = getOptionalArray(out, "tasks");
  ASSERT_TRUE(tasks.ok() && tasks->has_value());
  ASSERT_EQ((**tasks)->size(), 1u);
  JsonObject next = (**tasks)->getObject(0);
  EXPECT_NE(*getString(next, "task_id"), first[0].task_id);
  EXPECT_TRUE(next->has("s3"));
  EXPECT_TRUE(lease(provider_, worker, 0).empty()) << "delivered once";

  // Nothing left to book: the wait ends empty-handed, the completion stands.
  Lease second{*getString(next, "task_id"), *getString(next, "attempt_id"),
               *getString(next, "job_id"), next};
  HttpResult last = complete(provider_, worker, second, receiptFor(provider_, worker, second, 1000),
                             provider_, 0);
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ((**getOptionalArray(json(last), "tasks"))->size(), 0u);
  EXPECT_EQ(outboxRows(), 2);
}

TEST_F(WorkerFlowTest, SubmittedTasksReachTheDispatcherWithoutAQueueReloadAndAreHeldOnce) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 2, "0.5");
  ASSERT_EQ(*dispatcher_->planOnce(), 0);  // offers and an empty queue loaded
  for (int i = 0; i < 3; ++i) submit(owner_, commandJob("1"));
  // The submits handed their tasks over: no reload needed to book them.
  ASSERT_EQ(*dispatcher_->planOnce(false, false), 2);
  const std::string waiting =
      sqlText("SELECT id::text FROM scheduler.tasks WHERE state = 'pending' LIMIT 1");
  ASSERT_FALSE(waiting.empty());
  // The waiting task reported again (as a submit racing a reload would): held once.
  core::TaskDemand demand{{1, 512, 0, 0}, kMicrosPerCredit, 0};
  dispatcher_->submitted({core::QueuedTask(waiting, owner_.id(), demand)});
  std::vector<Lease> leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 2u);
  for (const Lease& l : leases) {
    ASSERT_EQ(
        complete(provider_, worker, l, receiptFor(provider_, worker, l, 1000), provider_).status,
        200);
  }
  EXPECT_EQ(*dispatcher_->planOnce(false, false), 1) << "two free cores, one task";
  EXPECT_EQ(sqlInt("SELECT COUNT(*) FROM scheduler.tasks WHERE state = 'leased'"), 1);
}

TEST_F(WorkerFlowTest, TheActiveJobListHoldsOnlyQueuedAndRunningJobs) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 1, "0.5");
  const std::string first = submit(owner_, commandJob("1"));
  const std::string second = submit(owner_, commandJob("1"));
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  std::vector<Lease> leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(complete(provider_, worker, leases[0], receiptFor(provider_, worker, leases[0], 1000),
                     provider_)
                .status,
            200);
  auto ids = [&](const std::string& path) {
    HttpResult r = get(owner_, path);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    JsonArray jobs = json(r)->getArray("jobs");
    for (std::size_t i = 0; jobs && i < jobs->size(); ++i)
      out.push_back(*getString(jobs->getObject(static_cast<unsigned>(i)), "id"));
    return out;
  };
  const std::string done = leases[0].job_id;
  const std::string waiting = done == first ? second : first;
  EXPECT_EQ(ids("/v1/jobs?state=active"), std::vector<std::string>{waiting});
  EXPECT_EQ(ids("/v1/jobs").size(), 2u);
  EXPECT_EQ(get(owner_, "/v1/jobs?state=done").status, 400);
}

TEST_F(WorkerFlowTest, ReputationFloorKeepsProvidersOut) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 4, "0.1");
  HttpResult r = post(owner_, "/v1/jobs", commandJob("1", R"(, "min_reputation": "5")"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(json(r)->has("warning")) << "nobody fits now: the owner is told it waits";
  EXPECT_EQ(*dispatcher_->planOnce(), 0);
  EXPECT_TRUE(lease(provider_, worker, 0).empty());
  fund(provider_.id(), 0, 5 * kMicrosPerCredit - 1);
  EXPECT_EQ(*dispatcher_->planOnce(), 0);
  EXPECT_TRUE(lease(provider_, worker, 0).empty());
  fund(provider_.id(), 0, 5 * kMicrosPerCredit);
  EXPECT_EQ(*dispatcher_->planOnce(), 1);
  EXPECT_EQ(lease(provider_, worker, 0).size(), 1u);
}

TEST_F(WorkerFlowTest, CancelStopsRunningAttemptsAndPendingTasks) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 1, "0.5");
  const std::string job_id =
      submit(owner_, R"({"kind": "render", "scene": "s3://)" + ownerBucket(owner_) +
                         R"(/scene.blend", "frames": "1-3", "max_price": "1"})");
  ASSERT_EQ(*dispatcher_->planOnce(), 1);  // one core: one task at a time
  std::vector<Lease> leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  const Lease l = leases[0];
  EXPECT_EQ(*getInt(l.raw, "frame_first"), 1);
  EXPECT_EQ(post(provider_, "/v1/workers/" + worker + "/tasks/" + l.task_id + "/progress",
                 progressBody(l.attempt_id))
                .status,
            200);
  HttpResult before = heartbeat(provider_, worker, {l.attempt_id});
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ((**getOptionalArray(json(before), "cancel"))->size(), 0u);

  KeyPair stranger = KeyPair::generate();
  EXPECT_EQ(post(stranger, "/v1/jobs/" + job_id + "/cancel", "").status, 404);
  HttpResult cancelled = post(owner_, "/v1/jobs/" + job_id + "/cancel", "");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(*getString(json(cancelled), "state"), "cancelled");
  JsonObject view = job(owner_, job_id);
  auto tasks = *getOptionalArray(view, "tasks");
  ASSERT_EQ((*tasks)->size(), 3u);
  for (std::size_t i = 0; i < (*tasks)->size(); ++i) {
    EXPECT_EQ(*getString((*tasks)->getObject(static_cast<unsigned>(i)), "state"), "cancelled");
  }

  HttpResult after = heartbeat(provider_, worker, {l.attempt_id});
  ASSERT_EQ(after.status, 200) << after.body;
  auto cancel = *getOptionalArray(json(after), "cancel");
  ASSERT_EQ((*cancel)->size(), 1u);
  EXPECT_EQ((*cancel)->getElement<std::string>(0), l.attempt_id);
  EXPECT_EQ(post(provider_, "/v1/workers/" + worker + "/tasks/" + l.task_id + "/progress",
                 progressBody(l.attempt_id))
                .status,
            409);
  // The provider is paid once for the work done until the cancel reached it; the task stays
  // cancelled and a second completion of the same attempt is refused.
  HttpResult paid =
      complete(provider_, worker, l, receiptFor(provider_, worker, l, 1000), provider_);
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(*getString(json(paid), "task_state"), "cancelled");
  EXPECT_EQ(*getString(json(paid), "job_state"), "cancelled");
  EXPECT_EQ(
      complete(provider_, worker, l, receiptFor(provider_, worker, l, 1000), provider_).status,
      409);
  EXPECT_EQ(outboxRows(), 1);
  EXPECT_EQ(*dispatcher_->planOnce(), 0);
  // Only the unsettled charge stays held; the job's escrow is released.
  EXPECT_EQ(*getString(json(get(owner_, "/v1/accounts/" + owner_.id())), "held"),
            *getString(json(paid), "cost"));
}

class LostWorkerTest : public WorkerFlowTest {
 protected:
  HarnessOptions options() const override {
    HarnessOptions o;
    o.heartbeat_timeout_millis = 3000;
    return o;
  }
};

TEST_F(LostWorkerTest, SilentWorkerLosesItsTaskAndItsLateCompletionIsRefused) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string lost = registerWorker(provider_, 4, "0.5");
  const std::string job_id = submit(owner_, commandJob("1"));
  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  std::vector<Lease> first = lease(provider_, lost, 0);
  ASSERT_EQ(first.size(), 1u);
  const Lease old = first[0];

  // A second worker arrives and keeps heartbeating; the first one falls silent.
  const std::string healthy = registerWorker(other_provider_, 4, "0.5");
  // Within the timeout nobody is lost; one second past it, only the silent worker is.
  manual_clock_.advanceMillis(2000);
  ASSERT_EQ(heartbeat(other_provider_, healthy, {}).status, 200);
  ASSERT_EQ(*dispatcher_->reapOnce(), 0);
  manual_clock_.advanceMillis(2000);
  ASSERT_EQ(heartbeat(other_provider_, healthy, {}).status, 200);
  auto reaped = dispatcher_->reapOnce();
  ASSERT_TRUE(reaped.ok()) << reaped.error().message;
  ASSERT_EQ(*reaped, 1) << "the silent worker was never declared lost";
  EXPECT_EQ(sqlText("SELECT state FROM scheduler.workers WHERE id = '" + lost + "'"), "lost");
  EXPECT_EQ(sqlText("SELECT state FROM scheduler.workers WHERE id = '" + healthy + "'"), "alive");
  JsonObject task = onlyTask(job(owner_, job_id));
  EXPECT_EQ(*getString(task, "state"), "pending");
  EXPECT_EQ(*getInt(task, "attempts"), 1);

  ASSERT_EQ(*dispatcher_->planOnce(), 1);
  std::vector<Lease> second = lease(other_provider_, healthy, 0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].task_id, old.task_id);
  EXPECT_NE(second[0].attempt_id, old.attempt_id);
  EXPECT_EQ(*getString(onlyTask(job(owner_, job_id)), "worker_id"), healthy);

  // The lost worker comes back too late: its worker id is gone, and its attempt is stale even
  // when presented by the worker that holds the task now.
  HttpResult late =
      complete(provider_, lost, old, receiptFor(provider_, lost, old, 60'000), provider_);
  EXPECT_EQ(late.status, 404) << late.body;
  EXPECT_EQ(heartbeat(provider_, lost, {old.attempt_id}).status, 404);
  HttpResult stale = complete(other_provider_, healthy, old,
                              receiptFor(other_provider_, healthy, old, 60'000), other_provider_);
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(post(other_provider_, "/v1/workers/" + healthy + "/tasks/" + old.task_id + "/progress",
                 progressBody(old.attempt_id))
                .status,
            409);
  EXPECT_EQ(outboxRows(), 0);

  HttpResult done =
      complete(other_provider_, healthy, second[0],
               receiptFor(other_provider_, healthy, second[0], 60'000), other_provider_);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(*getString(json(done), "job_state"), "succeeded");
  EXPECT_EQ(outboxRows(), 1);
  EXPECT_EQ(sqlText("SELECT payee FROM scheduler.outbox"), other_provider_.id());
}

}  // namespace
}  // namespace dcloud::scheduler::testing
