#pragma once
// The running adapter: a settlement loop that drains scheduler.outbox (woken by NOTIFY on
// 'dcloud_outbox' and by a poll timer) and the JSON API over the chain.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/http_server.h"
#include "common/identity.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"
#include "common/result.h"
#include "ledger-adapter/pg_ledger_store.h"

namespace dcloud::ledger {

inline constexpr const char* kOutboxChannel = "dcloud_outbox";

struct LedgerServiceConfig {
  std::string conninfo;
  std::string treasury;  // empty: the ledger key's id
  std::size_t batch = 500;
  int poll_millis = 500;
  int pool_size = 4;
  ApiServerConfig api;
};

// HTTP routes over the store: GET /v1/accounts/{id}, /v1/blocks/{height}, /v1/chain.
Router makeLedgerRouter(PgLedgerStore& store);

class LedgerService {
 public:
  LedgerService(LedgerServiceConfig config, const KeyPair& key, const Clock& clock);
  ~LedgerService();
  LedgerService(const LedgerService&) = delete;
  LedgerService& operator=(const LedgerService&) = delete;

  // Connects, creates the genesis block if needed, starts the API and the settlement loop.
  // Unavailable when the database cannot be reached. Migrations are the caller's job.
  Status start();
  // Stops the loop (finishing the batch in flight) and the API server. Idempotent.
  void stop();
  std::uint16_t port() const { return server_ ? server_->port() : 0; }
  const std::string& treasury() const { return config_.treasury; }

  // Settles batches until the outbox has nothing waiting; returns how many rows were paid.
  Result<std::size_t> drainOnce();

 private:
  void settlementLoop();
  void record(const SettleBatchResult& r);

  LedgerServiceConfig config_;
  const KeyPair& key_;
  const Clock& clock_;
  Logger log_{"ledger"};
  MetricsRegistry metrics_;
  std::shared_ptr<PgPool> pool_;
  std::unique_ptr<PgLedgerStore> store_;
  std::unique_ptr<ApiServer> server_;
  std::atomic<bool> stopping_{false};
  std::thread loop_;
};

}  // namespace dcloud::ledger
