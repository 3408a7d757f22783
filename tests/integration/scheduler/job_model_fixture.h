#pragma once
// The job-model tests' fixture: a scheduler with a funded owner and one provider, and helpers to
// plan, fail or succeed a lease and read a job's fields through the API.

#include <string>

#include "common/pg.h"
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {

class JobModelTest : public SchedulerTest {
 protected:
  // Completes the lease as failed, with a valid signed receipt.
  HttpResult fail(const std::string& worker, const Lease& l) {
    UsageReceipt receipt = receiptFor(provider_, worker, l, 1000);
    receipt.exit_code = 1;
    JsonObject body = new Poco::JSON::Object;
    body->set("attempt_id", l.attempt_id);
    body->set("status", "failed");
    body->set("exit_code", 1);
    body->set("error", "boom");
    body->set("outputs", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
    body->set("receipt", receiptToJson(receipt));
    body->set("receipt_signature", signReceipt(receipt, provider_));
    return post(provider_, "/v1/workers/" + worker + "/tasks/" + l.task_id + "/complete",
                toJson(body));
  }
  // Submits a one-task job that retries at once, and fails it twice on `worker` (the default
  // blocklist threshold), each time planned and leased there. Returns the job id.
  std::string submitAndFailTwiceOn(const std::string& worker) {
    const std::string job_id =
        submit(owner_, commandJob("1", R"(, "max_attempts": 5, "retry_backoff_seconds": 0)"));
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(plan(), 1);
      auto leases = lease(provider_, worker, 0);
      EXPECT_EQ(leases.size(), 1u);
      if (leases.size() != 1) break;
      EXPECT_EQ(fail(worker, leases[0]).status, 200);
    }
    return job_id;
  }
  HttpResult succeed(const std::string& worker, const Lease& l) {
    return complete(provider_, worker, l, receiptFor(provider_, worker, l, 1000), provider_);
  }
  int plan() {
    auto booked = dispatcher_->planOnce();
    EXPECT_TRUE(booked.ok()) << (booked.ok() ? "" : booked.error().message);
    return booked.ok() ? *booked : -1;
  }
  std::string state(const std::string& job_id) { return *getString(job(owner_, job_id), "state"); }
  std::string taskField(const std::string& job_id, int index, const std::string& key) {
    auto tasks = *getOptionalArray(job(owner_, job_id), "tasks");
    auto t = (*tasks)->getObject(static_cast<unsigned>(index));
    auto v = getOptionalString(t, key);
    return v.ok() ? v->value_or("") : "";
  }
  void execSql(const std::string& statement) {
    pqxx::connection c(db_);
    pqxx::nontransaction w(c);
    w.exec0(statement);
  }
  void SetUp() override {
    SchedulerTest::SetUp();
    fund(owner_.id(), 1000 * kMicrosPerCredit);
  }

  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
};

}  // namespace dcloud::scheduler::testing
