#pragma once
// Appending to the chain, written once against a narrow transactional interface (LedgerTxn) so the
// same rules run on PostgreSQL (pg_ledger_store.h) and in memory (memory_ledger_store.h). Pure: no
// database headers.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/identity.h"
#include "common/result.h"
#include "ledger-adapter/chain.h"

namespace dcloud::ledger {

// One open store transaction that already holds the chain's append lock. Nothing is visible to
// others until the owner commits; on any error the owner rolls back.
class LedgerTxn {
 public:
  virtual ~LedgerTxn() = default;
  // The block with the greatest height, or nullopt for an empty chain.
  virtual Result<std::optional<Block>> head() = 0;
  // The stored account, or nullopt if it was never touched.
  virtual Result<std::optional<Account>> account(const std::string& id) = 0;
  // The height of the block that settled receipt_id, or nullopt.
  virtual Result<std::optional<std::int64_t>> settledHeight(const std::string& receipt_id) = 0;
  virtual Status putBlock(const Block& block) = 0;
  virtual Status putAccount(const Account& account) = 0;
  virtual Status putSettlement(const std::string& receipt_id, std::int64_t height) = 0;
};

struct AppendOutcome {
  // The appended block; nullopt when no transaction was left to append.
  std::optional<Block> block;
  // The transactions in the block, in order.
  std::vector<Transaction> applied;
  // Every settle transaction's receipt id (accepted or already settled) -> the paying block.
  std::map<std::string, std::int64_t> settled;
  // Indexes (into the input) of settle transactions whose receipt was already paid: skipped.
  std::vector<std::size_t> duplicates;
  // Indexes of transactions that could not be applied, with why: skipped.
  std::vector<std::pair<std::size_t, Error>> rejected;
};

// Creates the genesis block when the chain is empty; returns the head either way.
Result<Block> ensureGenesis(LedgerTxn& txn, const KeyPair& key, std::int64_t now_ms);

// Applies txs in order to the stored accounts and appends them as one signed block (creating the
// genesis block first if needed). A settle whose receipt is already settled (before or earlier in
// txs) is skipped as a duplicate; a transaction that fails its rules is skipped as rejected. The
// caller decides whether rejections abort its store transaction. Errors: the store's.
Result<AppendOutcome> appendTransactions(LedgerTxn& txn, const std::vector<Transaction>& txs,
                                         const KeyPair& key, std::int64_t now_ms);

}  // namespace dcloud::ledger
