// The `dcloud` command's job-model commands against the in-process scheduler: submit with
// dependency, priority and retry flags, pause, resume and requeue.
#include <sstream>

#include "cli/commands.h"
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

class CliJobModelTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    fund(owner_.id(), 1000 * kMicrosPerCredit);
    env_.scheduler_url = url_;
    env_.s3_endpoint = gateway_url_;
    env_.key_file = dir_ + "/key.json";
    ASSERT_TRUE(owner_.save(env_.key_file).ok());
  }
  // Runs the command; returns its exit code, stdout in out_ and stderr in err_.
  int cli(const std::vector<std::string>& argv) {
    std::ostringstream out, err;
    const int rc = cli::runCli(argv, env_, out, err);
    out_ = out.str();
    err_ = err.str();
    return rc;
  }
  static std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
  cli::CliEnv env_;
  std::string out_, err_;
};

TEST_F(CliJobModelTest, SubmitFlagsPauseResumeAndRequeue) {
  const std::string worker = registerWorker(provider_, 4, "0.5");
  ASSERT_EQ(cli({"submit", "command", "--max-price", "1", "--memory-mb", "512", "--", "true"}), 0)
      << err_;
  const std::string first = firstLine(out_);
  ASSERT_EQ(cli({"submit", "command", "--max-price", "1", "--memory-mb", "512", "--after", first,
                 "--priority", "5", "--preemptible", "--retry-backoff", "30", "--max-attempts", "2",
                 "--", "true"}),
            0)
      << err_;
  const std::string second = firstLine(out_);
  JsonObject spec = *getOptionalObject(job(owner_, second), "spec").value();
  EXPECT_EQ(*getInt(spec, "priority"), 5);
  EXPECT_TRUE(*getOptionalBool(spec, "preemptible").value());
  EXPECT_EQ(*getInt(spec, "retry_backoff_seconds"), 30);
  EXPECT_EQ(*getOptionalInt(job(owner_, second), "waiting_for_jobs").value(), 1);
  ASSERT_EQ(cli({"job", second}), 0) << err_;
  EXPECT_NE(out_.find("waiting  for 1 job(s)"), std::string::npos) << out_;

  ASSERT_EQ(cli({"pause", first}), 0) << err_;
  EXPECT_NE(out_.find("(paused)"), std::string::npos) << out_;
  auto booked = dispatcher_->planOnce();
  ASSERT_TRUE(booked.ok());
  EXPECT_EQ(*booked, 0);
  ASSERT_EQ(cli({"resume", first}), 0) << err_;
  booked = dispatcher_->planOnce();
  ASSERT_TRUE(booked.ok());
  EXPECT_EQ(*booked, 1);
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  ASSERT_EQ(cli({"requeue", first, "0"}), 0) << err_;
  EXPECT_NE(out_.find("stopped"), std::string::npos) << out_;
  EXPECT_EQ(cli({"requeue", first, "7"}), 1);
  EXPECT_NE(err_.find("no task 7"), std::string::npos) << err_;
  EXPECT_EQ(cli({"pause"}), 1);
  // A dependency that does not exist is refused with the server's reason.
  EXPECT_EQ(
      cli({"submit", "command", "--after", "00000000-0000-0000-0000-000000000000", "--", "true"}),
      1);
  EXPECT_NE(err_.find("no job 00000000-0000-0000-0000-000000000000 of yours"), std::string::npos)
      << err_;
}

}  // namespace
}  // namespace dcloud::scheduler::testing
