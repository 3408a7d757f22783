#pragma once
// A migrated database per test, and scheduler rows (job, task, outbox with a receipt signed by a
// provider) written the way the scheduler writes them.

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/identity.h"
#include "common/json.h"
#include "common/pg.h"
#include "common/random.h"
#include "common/receipt.h"
#include "ledger-adapter/pg_ledger_store.h"
#include "tests/support/test_env.h"

namespace dcloud::ledger {

class OutboxFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = testing::createMigratedTestDatabase();
    Result<std::unique_ptr<PgPool>> pool = PgPool::connect(conninfo_, 4);
    ASSERT_TRUE(pool) << pool.error().toString();
    pool_ = std::shared_ptr<PgPool>(std::move(*pool));
    store_ = std::make_unique<PgLedgerStore>(pool_, ledger_key_, SystemClock::instance());
  }

  // Inserts a job owned by owner with one task, and an outbox row paying provider amount for it.
  // Returns the outbox receipt id. A bad signature is made by another key.
  std::string addReceipt(const std::string& owner, const KeyPair& provider, Micros amount,
                         bool good_signature = true) {
    Random& random = SecureRandom::instance();
    UsageReceipt r;
    r.receipt_id = random.uuid();
    r.job_id = random.uuid();
    r.task_id = random.uuid();
    r.worker_id = random.uuid();
    r.provider = provider.id();
    r.cpu_millis = 3600;
    r.wall_millis = 4000;
    const std::string signature =
        good_signature ? signReceipt(r, provider) : signReceipt(r, KeyPair::generate());
    pqxx::connection c(conninfo_);
    pqxx::work w(c);
    w.exec_params(
        "INSERT INTO scheduler.jobs (id, owner, kind, spec, state, max_price, output_bucket,"
        " output_prefix, task_count) VALUES ($1::uuid, $2, 'command', '{}', 'running', 1000000,"
        " 'out', 'p/', 1)",
        r.job_id, owner);
    w.exec_params(
        "INSERT INTO scheduler.tasks (id, job_id, index, state) VALUES ($1::uuid, $2::uuid, 0,"
        " 'succeeded')",
        r.task_id, r.job_id);
    w.exec_params(
        "INSERT INTO scheduler.outbox (receipt_id, task_id, job_id, payer, payee, amount, receipt,"
        " provider_signature) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::jsonb, $8)",
        r.receipt_id, r.task_id, r.job_id, owner, provider.id(), amount, toJson(receiptToJson(r)),
        signature);
    w.commit();
    return r.receipt_id;
  }

  Account account(const std::string& id) {
    Result<std::optional<Account>> a = store_->account(id);
    EXPECT_TRUE(a);
    return a && a->has_value() ? **a : Account{id, 0, 0};
  }

  std::string scalar(const std::string& sql) {
    pqxx::connection c(conninfo_);
    pqxx::nontransaction w(c);
    pqxx::result r = w.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }

  void exec(const std::string& sql) {
    pqxx::connection c(conninfo_);
    pqxx::nontransaction w(c);
    w.exec(sql);
  }

  std::string conninfo_;
  KeyPair ledger_key_ = KeyPair::generate();
  std::shared_ptr<PgPool> pool_;
  std::unique_ptr<PgLedgerStore> store_;
};

}  // namespace dcloud::ledger
