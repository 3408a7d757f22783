#pragma once
// The chain held in memory, with the same append rules as PostgreSQL (chain_engine.h). For unit
// tests and tools; not durable.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/identity.h"
#include "common/result.h"
#include "ledger-adapter/chain.h"
#include "ledger-adapter/chain_engine.h"

namespace dcloud::ledger {

struct MemoryLedgerState {
  std::vector<Block> blocks;  // index == height
  AccountMap accounts;
  std::map<std::string, std::int64_t> settlements;  // receipt id -> height
};

class MemoryLedgerStore {
 public:
  MemoryLedgerStore(const KeyPair& key, const Clock& clock) : key_(key), clock_(clock) {}

  // All-or-nothing, like one database transaction: see appendTransactions.
  Result<AppendOutcome> append(const std::vector<Transaction>& txs);
  // A copy of everything, for checks.
  MemoryLedgerState snapshot() const;
  // Replaces the state (tests tamper with a copy and put it back).
  void restore(MemoryLedgerState state);
  // ChainVerifier over the stored blocks, then finish() against stored accounts and settlements.
  Status verify() const;

 private:
  const KeyPair& key_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  MemoryLedgerState state_;
};

}  // namespace dcloud::ledger
