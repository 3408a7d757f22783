#include "ledger-adapter/pg_ledger_store.h"

#include <pqxx/pqxx>

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "ledger-adapter/chain_engine.h"
#include "ledger-adapter/settlement.h"

namespace dcloud::ledger {
namespace {

// One lock for every chain append, held until commit; readers never take it.
constexpr const char* kAppendLockSql =
    "SELECT pg_advisory_xact_lock(hashtext('dcloud.ledger.append'))";
constexpr const char* kBlockColumns =
    "height, prev_hash, created_at_ms, payload, hash, signer, signature";

Block blockFromRow(const pqxx::row& row) {
  Block b;
  b.height = row[0].as<std::int64_t>();
  b.prev_hash = row[1].as<std::string>();
  b.created_at_ms = row[2].as<std::int64_t>();
  b.payload = row[3].as<std::string>();
  b.hash = row[4].as<std::string>();
  b.signer = row[5].as<std::string>();
  b.signature = row[6].as<std::string>();
  return b;
}

std::int64_t txCount(const Block& block) {
  Result<std::vector<Transaction>> txs = decodePayload(block.payload);
  return txs ? static_cast<std::int64_t>(txs->size()) : 0;
}

class PgTxn final : public LedgerTxn {
 public:
  explicit PgTxn(pqxx::work& w) : w_(w) {}

  Result<std::optional<Block>> head() override {
    pqxx::result r = w_.exec(std::string("SELECT ") + kBlockColumns +
                             " FROM ledger.blocks ORDER BY height DESC LIMIT 1");
    if (r.empty()) return std::optional<Block>();
    return std::optional<Block>(blockFromRow(r[0]));
  }
  Result<std::optional<Account>> account(const std::string& id) override {
    pqxx::result r = w_.exec_params(
        "SELECT balance, reputation FROM ledger.accounts WHERE id = $1 FOR UPDATE", id);
    if (r.empty()) return std::optional<Account>();
    return std::optional<Account>(
        Account{id, r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()});
  }
  Result<std::optional<std::int64_t>> settledHeight(const std::string& receipt_id) override {
    pqxx::result r = w_.exec_params(
        "SELECT block_height FROM ledger.settlements WHERE receipt_id = $1::uuid", receipt_id);
    if (r.empty()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(r[0][0].as<std::int64_t>());
  }
  Status putBlock(const Block& b) override {
    w_.exec_params(
        "INSERT INTO ledger.blocks (height, prev_hash, created_at_ms, payload, tx_count, hash,"
        " signer, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        b.height, b.prev_hash, b.created_at_ms, b.payload, txCount(b), b.hash, b.signer,
        b.signature);
    return okStatus();
  }
  Status putAccount(const Account& a) override {
    w_.exec_params(
        "INSERT INTO ledger.accounts (id, balance, reputation, updated_at) VALUES ($1, $2, $3,"
        " now()) ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance,"
        " reputation = EXCLUDED.reputation, updated_at = now()",
        a.id, a.balance, a.reputation);
    return okStatus();
  }
  Status putSettlement(const std::string& receipt_id, std::int64_t height) override {
    w_.exec_params(
        "INSERT INTO ledger.settlements (receipt_id, block_height) VALUES ($1::uuid, $2)",
        receipt_id, height);
    return okStatus();
  }

 private:
  pqxx::work& w_;
};

std::vector<OutboxRow> takeOutboxRows(pqxx::work& w, std::size_t limit) {
  pqxx::result r = w.exec_params(
      "SELECT o.id, o.receipt_id::text, o.task_id::text, o.job_id::text, o.payer, o.payee,"
      " o.amount, o.receipt::text, o.provider_signature FROM scheduler.outbox o"
      " WHERE o.settled_at IS NULL AND NOT EXISTS (SELECT 1 FROM ledger.settlement_failures f"
      " WHERE f.outbox_id = o.id) ORDER BY o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED",
      static_cast<std::int64_t>(limit));
  std::vector<OutboxRow> rows;
  rows.reserve(r.size());
  for (const pqxx::row& row : r) {
    OutboxRow o;
    o.id = row[0].as<std::int64_t>();
    o.receipt_id = row[1].as<std::string>();
    o.task_id = row[2].as<std::string>();
    o.job_id = row[3].as<std::string>();
    o.payer = row[4].as<std::string>();
    o.payee = row[5].as<std::string>();
    o.amount = row[6].as<std::int64_t>();
    o.receipt_json = row[7].as<std::string>();
    o.provider_signature = row[8].as<std::string>();
    rows.push_back(std::move(o));
  }
  return rows;
}

void recordFailure(pqxx::work& w, const OutboxRow& row, const Error& error) {
  w.exec_params(
      "INSERT INTO ledger.settlement_failures (outbox_id, receipt_id, error) VALUES ($1,"
      " $2::uuid, $3) ON CONFLICT (outbox_id) DO UPDATE SET error = EXCLUDED.error,"
      " failed_at = now()",
      row.id, row.receipt_id, error.toString());
}

}  // namespace

Result<Block> PgLedgerStore::ensureGenesis() {
  return pool_->with<Block>([&](pqxx::connection& conn) -> Result<Block> {
    pqxx::work w(conn);
    w.exec(kAppendLockSql);
    PgTxn txn(w);
    Result<Block> head = ledger::ensureGenesis(txn, key_, clock_.nowMillis());
    if (head) w.commit();
    return head;
  });
}

Result<Block> PgLedgerStore::append(const std::vector<Transaction>& txs) {
  if (txs.empty()) return invalidArgument("no transactions to append");
  return pool_->with<Block>([&](pqxx::connection& conn) -> Result<Block> {
    pqxx::work w(conn);
    w.exec(kAppendLockSql);
    PgTxn txn(w);
    Result<AppendOutcome> outcome = appendTransactions(txn, txs, key_, clock_.nowMillis());
    if (!outcome) return outcome.error();
    // Leaving without commit rolls back, so a refused transaction appends nothing.
    if (!outcome->rejected.empty()) return outcome->rejected.front().second;
    if (!outcome->duplicates.empty()) return alreadyExists("receipt already settled");
    if (!outcome->block) return internalError("no block was appended");
    w.commit();
    return *outcome->block;
  });
}

Result<SettleBatchResult> PgLedgerStore::settleBatch(std::size_t limit,
                                                     const std::string& treasury) {
  return pool_->with<SettleBatchResult>([&](pqxx::connection& conn) -> Result<SettleBatchResult> {
    pqxx::work w(conn);
    // The append lock first: a second replica waits here instead of taking other rows and then
    // waiting anyway, and the lock order is the same for every writer.
    w.exec(kAppendLockSql);
    std::vector<OutboxRow> rows = takeOutboxRows(w, limit);
    SettleBatchResult result;
    result.rows = rows.size();
    if (rows.empty()) return result;

    PreparedBatch batch = prepareBatch(rows, treasury);
    PgTxn txn(w);
    Result<AppendOutcome> outcome = appendTransactions(txn, batch.txs, key_, clock_.nowMillis());
    if (!outcome) return outcome.error();
    for (const auto& [index, error] : batch.failures) recordFailure(w, rows[index], error);
    for (const auto& [index, error] : outcome->rejected) {
      recordFailure(w, rows[batch.tx_rows[index]], error);
    }
    result.failed = batch.failures.size() + outcome->rejected.size();
    result.duplicates = outcome->duplicates.size();
    result.settled = outcome->applied.size();
    if (outcome->block) result.height = outcome->block->height;
    for (const Transaction& tx : outcome->applied) {
      result.amount += tx.amount;
      result.fees += tx.fee;
    }
    for (const OutboxRow& row : rows) {
      auto it = outcome->settled.find(row.receipt_id);
      if (it == outcome->settled.end()) continue;
      w.exec_params(
          "UPDATE scheduler.outbox SET settled_at = now(), block_height = $2 WHERE id = $1", row.id,
          it->second);
    }
    w.commit();
    return result;
  });
}

Result<std::optional<Account>> PgLedgerStore::account(const std::string& id) {
  using Out = std::optional<Account>;
  return pool_->with<Out>([&](pqxx::connection& conn) -> Result<Out> {
    pqxx::read_transaction w(conn);
    pqxx::result r =
        w.exec_params("SELECT balance, reputation FROM ledger.accounts WHERE id = $1", id);
    if (r.empty()) return Out();
    return Out(Account{id, r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()});
  });
}

Result<std::optional<Block>> PgLedgerStore::block(std::int64_t height) {
  using Out = std::optional<Block>;
  return pool_->with<Out>([&](pqxx::connection& conn) -> Result<Out> {
    pqxx::read_transaction w(conn);
    pqxx::result r = w.exec_params(
        std::string("SELECT ") + kBlockColumns + " FROM ledger.blocks WHERE height = $1", height);
    if (r.empty()) return Out();
    return Out(blockFromRow(r[0]));
  });
}

Result<ChainSummary> PgLedgerStore::summary() {
  return pool_->with<ChainSummary>([&](pqxx::connection& conn) -> Result<ChainSummary> {
    pqxx::read_transaction w(conn);
    pqxx::result r = w.exec("SELECT height, hash FROM ledger.blocks ORDER BY height DESC LIMIT 1");
    ChainSummary s;
    if (!r.empty()) {
      s.height = r[0][0].as<std::int64_t>();
      s.head_hash = r[0][1].as<std::string>();
    }
    return s;
  });
}

Result<ChainSummary> verifyStoredChain(PgPool& pool,
                                       const std::optional<std::string>& expected_signer) {
  return pool.with<ChainSummary>([&](pqxx::connection& conn) -> Result<ChainSummary> {
    // One snapshot, so blocks appended while we read cannot make the accounts look wrong.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> w(conn);
    ChainVerifier verifier(expected_signer);
    constexpr std::int64_t kPage = 1000;
    std::int64_t next = 0;
    std::int64_t expected = 0;
    for (;;) {
      pqxx::result r = w.exec_params(std::string("SELECT ") + kBlockColumns +
                                         " FROM ledger.blocks WHERE height >= $1 ORDER BY height"
                                         " LIMIT $2",
                                     next, kPage);
      for (const pqxx::row& row : r) {
        Block b = blockFromRow(row);
        if (b.height != expected) {
          return invalidArgument("block " + std::to_string(expected) + ": missing (next is " +
                                 std::to_string(b.height) + ")");
        }
        DCLOUD_TRY(verifier.add(b));
        ++expected;
      }
      if (static_cast<std::int64_t>(r.size()) < kPage) break;
      next = expected;
    }
    AccountMap accounts;
    for (const pqxx::row& row : w.exec("SELECT id, balance, reputation FROM ledger.accounts")) {
      std::string id = row[0].as<std::string>();
      accounts[id] = Account{id, row[1].as<std::int64_t>(), row[2].as<std::int64_t>()};
    }
    std::map<std::string, std::int64_t> settlements;
    for (const pqxx::row& row :
         w.exec("SELECT receipt_id::text, block_height FROM ledger.settlements")) {
      settlements[row[0].as<std::string>()] = row[1].as<std::int64_t>();
    }
    DCLOUD_TRY(verifier.finish(accounts, settlements));
    return ChainSummary{verifier.height(), verifier.headHash()};
  });
}

}  // namespace dcloud::ledger
