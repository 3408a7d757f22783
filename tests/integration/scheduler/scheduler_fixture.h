#pragma once
// A whole scheduler for integration tests: the real storage gateway binary on port 0 (admin: the
// scheduler's key), and in-process SchedulerStore, RedisWorkerSignals, Dispatcher (not started),
// HttpGatewayAdmin and ApiServer on port 0, over a fresh migrated database and Redis prefix.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/identity.h"
#include "common/metrics.h"
#include "common/pg.h"
#include "common/random.h"
#include "common/receipt.h"
#include "common/redis.h"
#include "scheduler/api.h"

namespace dcloud::scheduler::testing {

struct HarnessOptions {
  std::int64_t heartbeat_timeout_millis = 60'000;
  std::int64_t lost_lease_grace_seconds = 30;
  std::int64_t max_queued_tasks_per_owner = 200'000;
};

struct Lease {
  std::string task_id;
  std::string attempt_id;
  std::string job_id;
  JsonObject raw;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  virtual HarnessOptions options() const { return {}; }

  // Signed calls as `key`; body is sent verbatim ("" for none).
  HttpResult post(const KeyPair& key, const std::string& path, const std::string& body);
  HttpResult get(const KeyPair& key, const std::string& path);
  // Parses a response body, failing the test when it is not JSON.
  static JsonObject json(const HttpResult& r);
  static std::string errorStatus(const HttpResult& r);  // the "status" field of an error body

  // Sets (or replaces) a ledger account; amounts in micro-credits.
  void fund(const std::string& id, Micros balance, Micros reputation = 0);
  std::int64_t sqlInt(const std::string& query);
  std::string sqlText(const std::string& query);
  std::int64_t jobRows() { return sqlInt("SELECT COUNT(*) FROM scheduler.jobs"); }
  std::int64_t taskRows() { return sqlInt("SELECT COUNT(*) FROM scheduler.tasks"); }
  std::int64_t outboxRows() { return sqlInt("SELECT COUNT(*) FROM scheduler.outbox"); }

  // POST /v1/workers; returns the worker id (fails the test otherwise).
  std::string registerWorker(const KeyPair& provider, int cores, const std::string& cpu_price,
                             std::int64_t memory_mb = 8192);
  // POST /v1/jobs; returns the job id.
  std::string submit(const KeyPair& owner, const std::string& body);
  std::vector<Lease> lease(const KeyPair& provider, const std::string& worker, int wait_ms);
  HttpResult heartbeat(const KeyPair& provider, const std::string& worker,
                       const std::vector<std::string>& running);
  UsageReceipt receiptFor(const KeyPair& provider, const std::string& worker, const Lease& lease,
                          std::int64_t wall_millis);
  // With lease_wait_ms the completion also asks for the worker's next work ("tasks").
  HttpResult complete(const KeyPair& provider, const std::string& worker, const Lease& lease,
                      const UsageReceipt& receipt, const KeyPair& signer,
                      std::optional<int> lease_wait_ms = std::nullopt);
  JsonObject job(const KeyPair& owner, const std::string& job_id);
  std::string ownerBucket(const KeyPair& owner) const { return "u-" + owner.id().substr(0, 16); }

  std::string db_;
  std::string dir_;
  std::string gateway_url_;
  std::string url_;
  KeyPair scheduler_key_ = KeyPair::generate();
  pid_t gateway_pid_ = -1;

  // Dependency order: later members use earlier ones and are destroyed first.
  // Liveness follows this clock: tests advance it instead of sleeping. It starts at the real time
  // so signatures stay inside the gateway's and verifier's window.
  ManualClock manual_clock_{SystemClock::instance().nowMillis()};
  const Clock& clock_ = manual_clock_;
  Random& random_ = SecureRandom::instance();
  MetricsRegistry metrics_;
  std::unique_ptr<PgPool> pool_;
  std::shared_ptr<RedisPool> redis_;
  std::unique_ptr<SchedulerStore> store_;
  std::unique_ptr<RedisWorkerSignals> signals_;
  std::unique_ptr<RedisNonceStore> nonces_;
  std::unique_ptr<RequestVerifier> verifier_;
  std::unique_ptr<HttpGatewayAdmin> gateway_admin_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<RedisJobEvents> events_;
  std::unique_ptr<ApiDeps> deps_;
  std::unique_ptr<ApiServer> server_;
};

// A valid command job body with the given bid and options.
std::string commandJob(const std::string& max_price, const std::string& extra = "");

}  // namespace dcloud::scheduler::testing
