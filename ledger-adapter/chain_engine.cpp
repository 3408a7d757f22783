#include "ledger-adapter/chain_engine.h"

#include <set>

namespace dcloud::ledger {

Result<Block> ensureGenesis(LedgerTxn& txn, const KeyPair& key, std::int64_t now_ms) {
  Result<std::optional<Block>> head = txn.head();
  if (!head) return head.error();
  if (head->has_value()) return std::move(**head);
  Block genesis = makeBlock(nullptr, {}, now_ms, key);
  DCLOUD_TRY(txn.putBlock(genesis));
  return genesis;
}

Result<AppendOutcome> appendTransactions(LedgerTxn& txn, const std::vector<Transaction>& txs,
                                         const KeyPair& key, std::int64_t now_ms) {
  Result<Block> head = ensureGenesis(txn, key, now_ms);
  if (!head) return head.error();
  const std::int64_t height = head->height + 1;

  AppendOutcome outcome;
  AccountMap accounts;          // accounts any transaction looked at, loaded once each
  std::set<std::string> dirty;  // those an applied transaction changed
  for (std::size_t i = 0; i < txs.size(); ++i) {
    const Transaction& tx = txs[i];
    if (tx.kind == TxKind::kSettle) {
      if (auto seen = outcome.settled.find(tx.receipt_id); seen != outcome.settled.end()) {
        outcome.duplicates.push_back(i);
        continue;
      }
      Result<std::optional<std::int64_t>> earlier = txn.settledHeight(tx.receipt_id);
      if (!earlier) return earlier.error();
      if (earlier->has_value()) {
        outcome.settled[tx.receipt_id] = **earlier;
        outcome.duplicates.push_back(i);
        continue;
      }
    }
    Status valid = validateTransaction(tx);
    if (!valid) {
      outcome.rejected.emplace_back(i, valid.error());
      continue;
    }
    for (const std::string& id : touchedAccounts(tx)) {
      if (accounts.count(id)) continue;
      Result<std::optional<Account>> stored = txn.account(id);
      if (!stored) return stored.error();
      accounts[id] = stored->value_or(Account{id, 0, 0});
    }
    Status applied = applyTransaction(accounts, tx);
    if (!applied) {
      outcome.rejected.emplace_back(i, applied.error());
      continue;
    }
    if (tx.kind == TxKind::kSettle) outcome.settled[tx.receipt_id] = height;
    for (const std::string& id : touchedAccounts(tx)) dirty.insert(id);
    outcome.applied.push_back(tx);
  }
  if (outcome.applied.empty()) return outcome;

  Block block = makeBlock(&*head, outcome.applied, now_ms, key);
  DCLOUD_TRY(txn.putBlock(block));
  for (const std::string& id : dirty) DCLOUD_TRY(txn.putAccount(accounts[id]));
  for (const Transaction& tx : outcome.applied) {
    if (tx.kind == TxKind::kSettle) DCLOUD_TRY(txn.putSettlement(tx.receipt_id, height));
  }
  outcome.block = std::move(block);
  return outcome;
}

}  // namespace dcloud::ledger
