#include "ledger-adapter/ledger_service.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <utility>

namespace dcloud::ledger {
namespace {

// Sets a flag when the scheduler NOTIFYs; the loop polls the flag between waits.
class OutboxListener final : public pqxx::notification_receiver {
 public:
  OutboxListener(pqxx::connection& conn, std::atomic<bool>& flag)
      : pqxx::notification_receiver(conn, kOutboxChannel), flag_(flag) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { flag_ = true; }

 private:
  std::atomic<bool>& flag_;
};

}  // namespace

LedgerService::LedgerService(LedgerServiceConfig config, const KeyPair& key, const Clock& clock)
    : config_(std::move(config)), key_(key), clock_(clock) {
  if (config_.treasury.empty()) config_.treasury = key_.id();
  if (config_.batch == 0) config_.batch = 1;
  config_.poll_millis = std::max(config_.poll_millis, 1);
}

LedgerService::~LedgerService() {
  stop();
}

Status LedgerService::start() {
  if (!isValidAccountId(config_.treasury)) {
    return invalidArgument("malformed treasury account id '" + config_.treasury + "'");
  }
  Result<std::unique_ptr<PgPool>> pool = PgPool::connect(config_.conninfo, config_.pool_size);
  if (!pool) return pool.error();
  pool_ = std::shared_ptr<PgPool>(std::move(*pool));
  store_ = std::make_unique<PgLedgerStore>(pool_, key_, clock_);
  Result<Block> head = store_->ensureGenesis();
  if (!head) return head.error();
  metrics_.gauge("ledger_chain_height", "Height of the chain head")
      .set(static_cast<double>(head->height));
  log_.info("chain head height=" + std::to_string(head->height) + " hash=" + head->hash +
            " treasury=" + config_.treasury);

  config_.api.name = "ledger";
  PgLedgerStore* store = store_.get();
  auto health = [store]() -> Status {
    Result<ChainSummary> s = store->summary();
    if (!s) return s.error();
    return okStatus();
  };
  server_ = std::make_unique<ApiServer>(config_.api, makeLedgerRouter(*store_), nullptr, metrics_,
                                        health);
  DCLOUD_TRY(server_->start());
  stopping_ = false;
  loop_ = std::thread([this] { settlementLoop(); });
  log_.info("serving on " + config_.api.host + ":" + std::to_string(server_->port()));
  return okStatus();
}

void LedgerService::stop() {
  stopping_ = true;
  if (loop_.joinable()) loop_.join();
  if (server_) server_->stop();
}

void LedgerService::record(const SettleBatchResult& r) {
  if (r.height) {
    metrics_.counter("ledger_blocks_appended_total", "Blocks appended by settlement").inc();
    metrics_.gauge("ledger_chain_height", "Height of the chain head")
        .set(static_cast<double>(*r.height));
  }
  metrics_.counter("ledger_settlements_total", "Receipts paid").inc(static_cast<double>(r.settled));
  metrics_.counter("ledger_settlement_duplicates_total", "Receipts found already paid")
      .inc(static_cast<double>(r.duplicates));
  metrics_.counter("ledger_settlement_failures_total", "Receipts refused")
      .inc(static_cast<double>(r.failed));
  metrics_.counter("ledger_settled_micros_total", "Micro-credits charged to payers")
      .inc(static_cast<double>(r.amount));
  metrics_.counter("ledger_fees_micros_total", "Micro-credits paid to the treasury")
      .inc(static_cast<double>(r.fees));
}

Result<std::size_t> LedgerService::drainOnce() {
  std::size_t paid = 0;
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    Result<SettleBatchResult> r = store_->settleBatch(config_.batch, config_.treasury);
    if (!r) {
      metrics_.counter("ledger_settle_errors_total", "Settlement batches that failed").inc();
      return r.error();
    }
    if (r->rows == 0) return paid;
    metrics_.histogram("ledger_settle_batch_seconds", "Time to settle one batch")
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    record(*r);
    paid += r->settled;
    log_.info(
        "settled batch rows=" + std::to_string(r->rows) + " paid=" + std::to_string(r->settled) +
        " duplicates=" + std::to_string(r->duplicates) + " failed=" + std::to_string(r->failed) +
        (r->height ? " height=" + std::to_string(*r->height) : std::string()));
    if (r->rows < config_.batch || stopping_) return paid;
  }
}

void LedgerService::settlementLoop() {
  std::atomic<bool> notified{false};
  std::unique_ptr<pqxx::connection> listen_conn;
  std::unique_ptr<OutboxListener> listener;
  const auto dropListener = [&] {
    listener.reset();  // before its connection
    listen_conn.reset();
  };
  while (!stopping_) {
    if (!listener) {
      try {
        listen_conn = std::make_unique<pqxx::connection>(config_.conninfo);
        listener = std::make_unique<OutboxListener>(*listen_conn, notified);
      } catch (const std::exception& e) {
        log_.warn(std::string("LISTEN failed, polling only: ") + e.what());
        dropListener();
      }
    }
    Result<std::size_t> drained = drainOnce();
    if (!drained) log_.warn("settlement failed: " + drained.error().toString());

    // Wait for a NOTIFY or the poll interval, in short slices so stop() is prompt.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.poll_millis);
    while (!stopping_ && !notified.exchange(false)) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      const auto slice = std::min<std::chrono::steady_clock::duration>(
          deadline - now, std::chrono::milliseconds(100));
      const long micros =
          static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(slice).count());
      if (listener) {
        try {
          listen_conn->await_notification(0, micros);
        } catch (const std::exception& e) {
          log_.warn(std::string("LISTEN connection lost: ") + e.what());
          dropListener();
        }
      } else {
        std::this_thread::sleep_for(slice);
      }
    }
  }
  dropListener();
}

}  // namespace dcloud::ledger
