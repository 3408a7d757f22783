// TaskRunner against a stub scheduler (real sandbox, no S3 traffic: command tasks without
// outputs): what it reports, in which order, and what it leaves behind.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/identity.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/receipt.h"
#include "tests/support/test_env.h"
#include "worker/task_runner.h"

namespace dcloud::testing {
namespace {

// Records every progress and complete call, in arrival order.
class StubScheduler {
 public:
  struct Call {
    std::string kind;  // "progress" or "complete"
    std::string task;
    JsonObject body;
  };

  StubScheduler() {
    Router router;
    auto record = [this](std::string kind) {
      return std::make_shared<FunctionEndpoint>([this, kind](const ApiRequest& req) {
        auto body = parseJsonObject(req.body);
        std::lock_guard lock(mutex_);
        calls_.push_back({kind, req.path_params.at("task"), body.ok() ? *body : nullptr});
        return ApiResponse::json(JsonObject(new Poco::JSON::Object));
      });
    };
    router.add("POST", "/v1/workers/{worker}/tasks/{task}/progress", Auth::kNone,
               record("progress"));
    router.add("POST", "/v1/workers/{worker}/tasks/{task}/complete", Auth::kNone,
               record("complete"));
    ApiServerConfig config;
    config.name = "stub-scheduler";
    server_ = std::make_unique<ApiServer>(config, std::move(router), nullptr, metrics_,
                                          [] { return okStatus(); });
  }
  Status start() { return server_->start(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<ApiServer> server_;
  std::mutex mutex_;
  std::vector<Call> calls_;
};

class TaskRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sandbox = Sandbox::create(SandboxConfig{});
    ASSERT_TRUE(sandbox.ok()) << sandbox.error().toString();
    sandbox_ = std::move(*sandbox);
    ASSERT_TRUE(stub_.start().ok());
    api_ = std::make_unique<ApiClient>(stub_.url(), &key_, SystemClock::instance(),
                                       SecureRandom::instance());
    scratch_ = makeTempDir();
    ::chmod(scratch_.c_str(), 0755);
  }

  worker::Task task(const std::string& id, std::vector<std::string> command) const {
    worker::Task t;
    t.task_id = id;
    t.attempt_id = id + "-attempt";
    t.job_id = "job-" + id;
    t.kind = "command";
    t.command = std::move(command);
    t.memory_mb = 256;
    t.timeout_seconds = 60;
    t.output_bucket = "out";
    t.output_prefix = t.job_id + "/";
    t.s3_endpoint = "http://127.0.0.1:9";  // never called: no inputs, no outputs
    return t;
  }

  worker::RunOutcome run(const worker::Task& t) {
    worker::RunnerConfig rc;
    rc.worker_id = "w1";
    rc.scratch_dir = scratch_;
    worker::TaskRunner runner(rc, *api_, key_, *sandbox_, SystemClock::instance());
    std::atomic<bool> cancel{false};
    return runner.run(t, cancel);
  }

  KeyPair key_ = KeyPair::generate();
  std::unique_ptr<Sandbox> sandbox_;
  StubScheduler stub_;
  std::unique_ptr<ApiClient> api_;
  std::string scratch_;
};

TEST_F(TaskRunnerTest, MarksRunningBeforeItCompletesWithASignedReceipt) {
  worker::RunOutcome outcome = run(task("t1", {"true"}));
  EXPECT_TRUE(outcome.succeeded) << outcome.error;
  auto calls = stub_.calls();
  ASSERT_GE(calls.size(), 2u);
  // The "running" mark goes out from the scanner thread now, yet still strictly first.
  EXPECT_EQ(calls.front().kind, "progress");
  EXPECT_EQ(calls.back().kind, "complete");
  for (std::size_t i = 1; i + 1 < calls.size(); ++i) EXPECT_EQ(calls[i].kind, "progress");
  const JsonObject& done = calls.back().body;
  ASSERT_TRUE(done);
  EXPECT_EQ(done->getValue<std::string>("status"), "succeeded");
  EXPECT_EQ(done->getValue<std::string>("attempt_id"), "t1-attempt");
  auto receipt = receiptFromJson(done->getObject("receipt"));
  ASSERT_TRUE(receipt.ok()) << receipt.error().toString();
  EXPECT_EQ(receipt->provider, key_.id());
  EXPECT_TRUE(verifyReceipt(*receipt, done->getValue<std::string>("receipt_signature")));
  // The attempt's scratch directory is gone afterwards.
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists(scratch_ + "/tasks/t1-attempt", ec));
}

TEST_F(TaskRunnerTest, FailureCarriesTheExitCodeAndTheLastOutput) {
  worker::RunOutcome outcome = run(task("t2", {"/bin/sh", "-c", "echo broken; exit 3"}));
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.exit_code, 3);
  auto calls = stub_.calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.front().kind, "progress");
  const JsonObject& done = calls.back().body;
  ASSERT_EQ(calls.back().kind, "complete");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->getValue<std::string>("status"), "failed");
  EXPECT_EQ(done->getValue<int>("exit_code"), 3);
  EXPECT_NE(done->getValue<std::string>("error").find("broken"), std::string::npos);
}

TEST_F(TaskRunnerTest, TheTaskSeesItsOutputDirectoryAndWorkDirectory) {
  worker::RunOutcome outcome =
      run(task("t3", {"/bin/sh", "-c", "test -d /work/out && test -w /work && cd /work/out"}));
  EXPECT_TRUE(outcome.succeeded) << outcome.error;
}

}  // namespace
}  // namespace dcloud::testing
