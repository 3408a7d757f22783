#pragma once
// The chain in PostgreSQL (schema ledger, sql/0003_ledger.sql) and the settlement of the
// scheduler's outbox. Every append runs in one database transaction under an advisory lock, so
// concurrent writers (serve, mint, several replicas) never collide on a height, and balances,
// settlement records and outbox marks commit together with their block or not at all.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/identity.h"
#include "common/money.h"
#include "common/pg.h"
#include "common/result.h"
#include "ledger-adapter/chain.h"

namespace dcloud::ledger {

struct SettleBatchResult {
  std::size_t rows = 0;                // outbox rows taken
  std::size_t settled = 0;             // paid in this batch's block
  std::size_t duplicates = 0;          // paid before: only marked settled again
  std::size_t failed = 0;              // refused (recorded in ledger.settlement_failures)
  std::optional<std::int64_t> height;  // the appended block, if any
  Micros amount = 0;                   // sum paid by payers in this block
  Micros fees = 0;                     // sum paid to the treasury
};

struct ChainSummary {
  std::int64_t height = -1;  // -1: empty chain
  std::string head_hash;
};

class PgLedgerStore {
 public:
  PgLedgerStore(std::shared_ptr<PgPool> pool, const KeyPair& key, const Clock& clock)
      : pool_(std::move(pool)), key_(key), clock_(clock) {}

  // Creates the genesis block if the chain is empty; returns the head.
  Result<Block> ensureGenesis();
  // Appends txs as one block. All or nothing: if any transaction breaks a rule, nothing is
  // appended and its error is returned (InvalidArgument, FailedPrecondition "insufficient-funds").
  Result<Block> append(const std::vector<Transaction>& txs);
  // Takes up to limit unsettled outbox rows (FOR UPDATE SKIP LOCKED, by id), checks each receipt,
  // appends one block paying the good ones, records failures, and marks the rows settled, all in
  // one transaction. rows == 0 means nothing was waiting.
  Result<SettleBatchResult> settleBatch(std::size_t limit, const std::string& treasury);

  Result<std::optional<Account>> account(const std::string& id);
  Result<std::optional<Block>> block(std::int64_t height);
  Result<ChainSummary> summary();

 private:
  std::shared_ptr<PgPool> pool_;
  const KeyPair& key_;
  const Clock& clock_;
};

// Re-checks the whole stored chain in one snapshot: every block (hash, link, signature, one
// signer, expected_signer when given), and that replaying it from genesis gives exactly
// ledger.accounts and ledger.settlements. The error names the first bad block or account.
Result<ChainSummary> verifyStoredChain(PgPool& pool,
                                       const std::optional<std::string>& expected_signer);

}  // namespace dcloud::ledger
