#include "ledger-adapter/memory_ledger_store.h"

#include <utility>

namespace dcloud::ledger {
namespace {

// Works on a private copy of the state; the store swaps it in when the append succeeds.
class MemoryTxn final : public LedgerTxn {
 public:
  explicit MemoryTxn(MemoryLedgerState state) : state_(std::move(state)) {}

  Result<std::optional<Block>> head() override {
    if (state_.blocks.empty()) return std::optional<Block>();
    return std::optional<Block>(state_.blocks.back());
  }
  Result<std::optional<Account>> account(const std::string& id) override {
    auto it = state_.accounts.find(id);
    if (it == state_.accounts.end()) return std::optional<Account>();
    return std::optional<Account>(it->second);
  }
  Result<std::optional<std::int64_t>> settledHeight(const std::string& receipt_id) override {
    auto it = state_.settlements.find(receipt_id);
    if (it == state_.settlements.end()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(it->second);
  }
  Status putBlock(const Block& block) override {
    if (block.height != static_cast<std::int64_t>(state_.blocks.size())) {
      return conflict("block height " + std::to_string(block.height) + " is taken");
    }
    state_.blocks.push_back(block);
    return okStatus();
  }
  Status putAccount(const Account& account) override {
    state_.accounts[account.id] = account;
    return okStatus();
  }
  Status putSettlement(const std::string& receipt_id, std::int64_t height) override {
    if (!state_.settlements.emplace(receipt_id, height).second) {
      return alreadyExists("receipt " + receipt_id + " is already settled");
    }
    return okStatus();
  }
  MemoryLedgerState& state() { return state_; }

 private:
  MemoryLedgerState state_;
};

}  // namespace

Result<AppendOutcome> MemoryLedgerStore::append(const std::vector<Transaction>& txs) {
  std::lock_guard<std::mutex> lock(mutex_);
  MemoryTxn txn(state_);
  Result<AppendOutcome> outcome = appendTransactions(txn, txs, key_, clock_.nowMillis());
  if (outcome) state_ = std::move(txn.state());
  return outcome;
}

MemoryLedgerState MemoryLedgerStore::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void MemoryLedgerStore::restore(MemoryLedgerState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(state);
}

Status MemoryLedgerStore::verify() const {
  MemoryLedgerState state = snapshot();
  ChainVerifier verifier(key_.id());
  for (const Block& block : state.blocks) DCLOUD_TRY(verifier.add(block));
  return verifier.finish(state.accounts, state.settlements);
}

}  // namespace dcloud::ledger
