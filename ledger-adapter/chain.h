#pragma once
// The embedded chain, pure part: transactions, their canonical serialization, block hashing and
// signing, verification, and the balance rules. No database or Poco here, so every rule is unit
// tested with in-memory data; pg_ledger_store.h and memory_ledger_store.h carry it out.
//
// Block hash = hex sha256 of the canonical header
//   "dcloud-block-v1\n" height "\n" prev_hash "\n" created_at_ms "\n" hex(sha256(payload))
// and signature = ed25519 by the ledger key (block.signer) over the 64 hex characters of the hash.
// The payload is the block's transactions as canonical JSON (see encodePayload); the exact bytes
// are stored, so anyone can recompute the hash.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/identity.h"
#include "common/money.h"
#include "common/result.h"

namespace dcloud::ledger {

// prev_hash of the genesis block (height 0).
inline constexpr const char* kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// The settlement fee is 2 % of the amount, in percent.
inline constexpr Micros kFeePercent = 2;

enum class TxKind { kMint, kSettle, kTransfer };
const char* txKindName(TxKind kind);

// One transaction. Which fields are used depends on kind:
//   mint:     to, amount (> 0)                       operator funds an account
//   settle:   from (payer), to (payee), amount (>= 0), fee, treasury, receipt_id, job_id, task_id
//   transfer: from, to, amount (> 0); from must hold amount
struct Transaction {
  TxKind kind = TxKind::kMint;
  std::string from;
  std::string to;
  Micros amount = 0;
  Micros fee = 0;
  std::string treasury;
  std::string receipt_id;
  std::string job_id;
  std::string task_id;

  bool operator==(const Transaction&) const = default;
};

struct Account {
  std::string id;
  Micros balance = 0;
  Micros reputation = 0;

  bool operator==(const Account&) const = default;
};
using AccountMap = std::map<std::string, Account>;

struct Block {
  std::int64_t height = 0;
  std::string prev_hash;
  std::int64_t created_at_ms = 0;
  std::string payload;    // canonical JSON array of transactions, the exact hashed bytes
  std::string hash;       // hex
  std::string signer;     // ledger key id
  std::string signature;  // hex

  bool operator==(const Block&) const = default;
};

// Account ids are principal ids in practice; any 1..128 characters of [A-Za-z0-9._:@-] are
// accepted (e.g. a named treasury), which also keeps the canonical JSON free of escapes.
bool isValidAccountId(std::string_view id);
// Lowercase 8-4-4-4-12 hex UUID, as PostgreSQL prints uuid values.
bool isCanonicalUuid(std::string_view id);

// 2 % of amount, rounded half up to whole micro-credits. amount must be >= 0.
Micros settlementFee(Micros amount);

// Builders that fill the derived fields (fee) so callers cannot get them wrong.
Transaction makeMint(const std::string& to, Micros amount);
Transaction makeTransfer(const std::string& from, const std::string& to, Micros amount);
Transaction makeSettle(const std::string& payer, const std::string& payee, Micros amount,
                       const std::string& treasury, const std::string& receipt_id,
                       const std::string& job_id, const std::string& task_id);

// Checks a transaction on its own (ids, signs, fee rule); InvalidArgument naming the problem.
Status validateTransaction(const Transaction& tx);

// Canonical JSON: an array of objects with keys in byte order, no spaces, integers in decimal.
std::string encodePayload(const std::vector<Transaction>& txs);
// Strict inverse: fails unless text is exactly encodePayload of valid transactions.
Result<std::vector<Transaction>> decodePayload(std::string_view text);

std::string blockHeader(std::int64_t height, const std::string& prev_hash,
                        std::int64_t created_at_ms, const std::string& payload);
std::string blockHash(std::int64_t height, const std::string& prev_hash, std::int64_t created_at_ms,
                      const std::string& payload);
// A signed block following prev (genesis when prev is null). created_at_ms never goes below the
// previous block's, so block times are monotonic even if the clock steps back.
Block makeBlock(const Block* prev, const std::vector<Transaction>& txs, std::int64_t now_ms,
                const KeyPair& key);

// Checks one block on its own and, when prev is given, its link to prev: height, prev_hash,
// time order, recomputed hash, signature by block.signer, canonical payload. The error message
// starts with "block H: ".
Status verifyBlock(const Block& block, const Block* prev);

// Account ids a transaction touches (so a store can load and lock just those).
std::set<std::string> touchedAccounts(const Transaction& tx);
// Applies tx to accounts (missing accounts count as zero and are created). On error nothing is
// changed. Rules:
//   mint      to.balance += amount
//   transfer  from.balance -= amount (FailedPrecondition "insufficient-funds" if it would go
//             below zero), to.balance += amount
//   settle    payer.balance -= amount; payee.balance += amount - fee; treasury.balance += fee;
//             payer.reputation += fee; payee.reputation += fee.
// A settled receipt is always paid, even into a negative payer balance: the work was done and the
// scheduler already held escrow for it at submit, so refusing would only hurt the provider.
// Overflow is an InvalidArgument error.
Status applyTransaction(AccountMap& accounts, const Transaction& tx);

// Replays a chain block by block (in height order) and checks every block, its link to the
// previous one, that all blocks have one signer (expected_signer when given), and that no receipt
// is settled twice. finish() compares the replayed state with what a store holds.
class ChainVerifier {
 public:
  explicit ChainVerifier(std::optional<std::string> expected_signer = std::nullopt)
      : expected_signer_(std::move(expected_signer)) {}

  Status add(const Block& block);
  // stored_settlements: receipt id -> block height. Accounts absent on one side equal zero.
  Status finish(const AccountMap& stored_accounts,
                const std::map<std::string, std::int64_t>& stored_settlements) const;

  // -1 before the first block.
  std::int64_t height() const { return last_ ? last_->height : -1; }
  const std::string& headHash() const;
  const AccountMap& accounts() const { return accounts_; }

 private:
  std::optional<std::string> expected_signer_;
  std::optional<Block> last_;
  AccountMap accounts_;
  std::map<std::string, std::int64_t> settlements_;
};

}  // namespace dcloud::ledger
