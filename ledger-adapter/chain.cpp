#include "ledger-adapter/chain.h"

#include <algorithm>
#include <utility>

#include "common/crypto.h"

namespace dcloud::ledger {
namespace {

bool isIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

bool checkedAdd(Micros a, Micros b, Micros& out) {
  return !__builtin_add_overflow(a, b, &out);
}
bool checkedSub(Micros a, Micros b, Micros& out) {
  return !__builtin_sub_overflow(a, b, &out);
}

// ---- canonical JSON writer: keys are emitted in byte order by construction ----

void putString(std::string& out, const char* key, const std::string& value, bool& first) {
  out += first ? "\"" : ",\"";
  first = false;
  out += key;
  out += "\":\"";
  out += value;  // ids and uuids are checked to need no escaping
  out += '"';
}

void putInt(std::string& out, const char* key, std::int64_t value, bool& first) {
  out += first ? "\"" : ",\"";
  first = false;
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void encodeTx(std::string& out, const Transaction& tx) {
  bool first = true;
  out += '{';
  switch (tx.kind) {
    case TxKind::kMint:
      putInt(out, "amount", tx.amount, first);
      putString(out, "kind", "mint", first);
      putString(out, "to", tx.to, first);
      break;
    case TxKind::kTransfer:
      putInt(out, "amount", tx.amount, first);
      putString(out, "from", tx.from, first);
      putString(out, "kind", "transfer", first);
      putString(out, "to", tx.to, first);
      break;
    case TxKind::kSettle:
      putInt(out, "amount", tx.amount, first);
      putInt(out, "fee", tx.fee, first);
      putString(out, "job_id", tx.job_id, first);
      putString(out, "kind", "settle", first);
      putString(out, "payee", tx.to, first);
      putString(out, "payer", tx.from, first);
      putString(out, "receipt_id", tx.receipt_id, first);
      putString(out, "task_id", tx.task_id, first);
      putString(out, "treasury", tx.treasury, first);
      break;
  }
  out += '}';
}

// ---- strict reader for exactly the subset the writer produces ----

struct Value {
  bool is_int = false;
  std::int64_t number = 0;
  std::string text;
};
using Fields = std::map<std::string, Value>;

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool atEnd() const { return pos_ == text_.size(); }

  Result<std::string> string() {
    if (!eat('"')) return invalidArgument(where("expected a string"));
    std::size_t start = pos_;
    while (pos_ < text_.size() && isIdChar(text_[pos_])) ++pos_;
    if (!eat('"')) return invalidArgument(where("unsupported character in string"));
    return std::string(text_.substr(start, pos_ - 1 - start));
  }

  Result<std::int64_t> integer() {
    bool negative = eat('-');
    std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      int digit = text_[pos_] - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, negative ? -digit : digit, &value)) {
        return invalidArgument(where("integer out of range"));
      }
      ++pos_;
    }
    if (pos_ == start) return invalidArgument(where("expected a number"));
    return value;
  }

  Result<Fields> object() {
    Fields fields;
    if (!eat('{')) return invalidArgument(where("expected an object"));
    if (eat('}')) return fields;
    do {
      Result<std::string> key = string();
      if (!key) return key.error();
      if (!eat(':')) return invalidArgument(where("expected ':'"));
      Value v;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        Result<std::string> s = string();
        if (!s) return s.error();
        v.text = std::move(*s);
      } else {
        Result<std::int64_t> n = integer();
        if (!n) return n.error();
        v.is_int = true;
        v.number = *n;
      }
      if (!fields.emplace(std::move(*key), std::move(v)).second) {
        return invalidArgument(where("duplicate key"));
      }
    } while (eat(','));
    if (!eat('}')) return invalidArgument(where("expected '}'"));
    return fields;
  }

 private:
  std::string where(const std::string& what) const {
    return "payload offset " + std::to_string(pos_) + ": " + what;
  }
  std::string_view text_;
  std::size_t pos_ = 0;
};

Result<std::string> textField(const Fields& f, const char* key) {
  auto it = f.find(key);
  if (it == f.end() || it->second.is_int) {
    return invalidArgument(std::string("transaction field '") + key + "' missing or not a string");
  }
  return it->second.text;
}

Result<std::int64_t> intField(const Fields& f, const char* key) {
  auto it = f.find(key);
  if (it == f.end() || !it->second.is_int) {
    return invalidArgument(std::string("transaction field '") + key + "' missing or not a number");
  }
  return it->second.number;
}

Result<Transaction> txFromFields(const Fields& f) {
  Result<std::string> kind = textField(f, "kind");
  if (!kind) return kind.error();
  Transaction tx;
  Result<std::int64_t> amount = intField(f, "amount");
  if (!amount) return amount.error();
  tx.amount = *amount;
  std::size_t expected_fields = 0;
  if (*kind == "mint") {
    tx.kind = TxKind::kMint;
    Result<std::string> to = textField(f, "to");
    if (!to) return to.error();
    tx.to = *to;
    expected_fields = 3;
  } else if (*kind == "transfer") {
    tx.kind = TxKind::kTransfer;
    Result<std::string> from = textField(f, "from");
    Result<std::string> to = textField(f, "to");
    if (!from) return from.error();
    if (!to) return to.error();
    tx.from = *from;
    tx.to = *to;
    expected_fields = 4;
  } else if (*kind == "settle") {
    tx.kind = TxKind::kSettle;
    Result<std::int64_t> fee = intField(f, "fee");
    if (!fee) return fee.error();
    tx.fee = *fee;
    std::pair<const char*, std::string*> strings[] = {
        {"payer", &tx.from},        {"payee", &tx.to},
        {"treasury", &tx.treasury}, {"receipt_id", &tx.receipt_id},
        {"job_id", &tx.job_id},     {"task_id", &tx.task_id}};
    for (auto& [key, target] : strings) {
      Result<std::string> s = textField(f, key);
      if (!s) return s.error();
      *target = *s;
    }
    expected_fields = 9;
  } else {
    return invalidArgument("unknown transaction kind '" + *kind + "'");
  }
  if (f.size() != expected_fields) return invalidArgument("unexpected field in transaction");
  DCLOUD_TRY(validateTransaction(tx));
  return tx;
}

Status blockError(std::int64_t height, const std::string& what) {
  return invalidArgument("block " + std::to_string(height) + ": " + what);
}

}  // namespace

const char* txKindName(TxKind kind) {
  switch (kind) {
    case TxKind::kMint: return "mint";
    case TxKind::kSettle: return "settle";
    case TxKind::kTransfer: return "transfer";
  }
  return "unknown";
}

bool isValidAccountId(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), isIdChar);
}

bool isCanonicalUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

Micros settlementFee(Micros amount) {
  // amount * 2 / 100 rounded half up, without the multiplication that could overflow:
  // amount / 50 whole parts, plus one when the remainder is at least half of 50.
  constexpr Micros kDivisor = 100 / kFeePercent;
  return amount / kDivisor + ((amount % kDivisor) * 2 >= kDivisor ? 1 : 0);
}

Transaction makeMint(const std::string& to, Micros amount) {
  Transaction tx;
  tx.kind = TxKind::kMint;
  tx.to = to;
  tx.amount = amount;
  return tx;
}

Transaction makeTransfer(const std::string& from, const std::string& to, Micros amount) {
  Transaction tx;
  tx.kind = TxKind::kTransfer;
  tx.from = from;
  tx.to = to;
  tx.amount = amount;
  return tx;
}

Transaction makeSettle(const std::string& payer, const std::string& payee, Micros amount,
                       const std::string& treasury, const std::string& receipt_id,
                       const std::string& job_id, const std::string& task_id) {
  Transaction tx;
  tx.kind = TxKind::kSettle;
  tx.from = payer;
  tx.to = payee;
  tx.amount = amount;
  tx.fee = amount >= 0 ? settlementFee(amount) : 0;
  tx.treasury = treasury;
  tx.receipt_id = receipt_id;
  tx.job_id = job_id;
  tx.task_id = task_id;
  return tx;
}

Status validateTransaction(const Transaction& tx) {
  auto badId = [](const char* role, const std::string& id) {
    return invalidArgument(std::string("malformed ") + role + " account id '" + id +
                           "' (1-128 of A-Z a-z 0-9 . _ : @ -)");
  };
  switch (tx.kind) {
    case TxKind::kMint:
      if (!isValidAccountId(tx.to)) return badId("recipient", tx.to);
      if (tx.amount <= 0) return invalidArgument("mint amount must be positive");
      return okStatus();
    case TxKind::kTransfer:
      if (!isValidAccountId(tx.from)) return badId("sender", tx.from);
      if (!isValidAccountId(tx.to)) return badId("recipient", tx.to);
      if (tx.amount <= 0) return invalidArgument("transfer amount must be positive");
      if (tx.from == tx.to) return invalidArgument("transfer to the same account");
      return okStatus();
    case TxKind::kSettle:
      if (!isValidAccountId(tx.from)) return badId("payer", tx.from);
      if (!isValidAccountId(tx.to)) return badId("payee", tx.to);
      if (!isValidAccountId(tx.treasury)) return badId("treasury", tx.treasury);
      if (tx.amount < 0) return invalidArgument("settle amount must not be negative");
      if (tx.fee != settlementFee(tx.amount)) return invalidArgument("settle fee is not 2 %");
      if (!isCanonicalUuid(tx.receipt_id) || !isCanonicalUuid(tx.job_id) ||
          !isCanonicalUuid(tx.task_id)) {
        return invalidArgument("settle receipt, job and task ids must be lowercase uuids");
      }
      return okStatus();
  }
  return invalidArgument("unknown transaction kind");
}

std::string encodePayload(const std::vector<Transaction>& txs) {
  std::string out = "[";
  for (std::size_t i = 0; i < txs.size(); ++i) {
    if (i > 0) out += ',';
    encodeTx(out, txs[i]);
  }
  out += ']';
  return out;
}

Result<std::vector<Transaction>> decodePayload(std::string_view text) {
  Reader reader(text);
  std::vector<Transaction> txs;
  if (!reader.eat('[')) return invalidArgument("payload is not a JSON array");
  if (!reader.eat(']')) {
    do {
      Result<Fields> fields = reader.object();
      if (!fields) return fields.error();
      Result<Transaction> tx = txFromFields(*fields);
      if (!tx)
        return invalidArgument("transaction " + std::to_string(txs.size()) + ": " +
                               tx.error().message);
      txs.push_back(std::move(*tx));
    } while (reader.eat(','));
    if (!reader.eat(']')) return invalidArgument("payload array not closed");
  }
  if (!reader.atEnd()) return invalidArgument("trailing bytes after payload");
  // Key order and number spelling must match too: the stored bytes are the canonical ones.
  if (encodePayload(txs) != text) return invalidArgument("payload is not in canonical form");
  return txs;
}

std::string blockHeader(std::int64_t height, const std::string& prev_hash,
                        std::int64_t created_at_ms, const std::string& payload) {
  return "dcloud-block-v1\n" + std::to_string(height) + "\n" + prev_hash + "\n" +
         std::to_string(created_at_ms) + "\n" + sha256Hex(payload);
}

std::string blockHash(std::int64_t height, const std::string& prev_hash, std::int64_t created_at_ms,
                      const std::string& payload) {
  return sha256Hex(blockHeader(height, prev_hash, created_at_ms, payload));
}

Block makeBlock(const Block* prev, const std::vector<Transaction>& txs, std::int64_t now_ms,
                const KeyPair& key) {
  Block b;
  b.height = prev ? prev->height + 1 : 0;
  b.prev_hash = prev ? prev->hash : kZeroHash;
  b.created_at_ms = prev ? std::max(now_ms, prev->created_at_ms) : now_ms;
  b.payload = encodePayload(txs);
  b.hash = blockHash(b.height, b.prev_hash, b.created_at_ms, b.payload);
  b.signer = key.id();
  b.signature = key.sign(b.hash);
  return b;
}

Status verifyBlock(const Block& block, const Block* prev) {
  const std::int64_t h = block.height;
  if (prev) {
    if (h != prev->height + 1) {
      return blockError(h, "height does not follow " + std::to_string(prev->height));
    }
    if (block.prev_hash != prev->hash)
      return blockError(h, "prev_hash does not match block " + std::to_string(prev->height));
    if (block.created_at_ms < prev->created_at_ms) return blockError(h, "time goes backwards");
  } else {
    if (h != 0) return blockError(h, "chain does not start at height 0");
    if (block.prev_hash != kZeroHash) return blockError(h, "genesis prev_hash is not zero");
  }
  if (block.hash != blockHash(h, block.prev_hash, block.created_at_ms, block.payload)) {
    return blockError(h, "hash does not match its contents");
  }
  if (!isValidPrincipalId(block.signer)) return blockError(h, "malformed signer id");
  if (!verifySignature(block.signer, block.hash, block.signature)) {
    return blockError(h, "bad signature");
  }
  Result<std::vector<Transaction>> txs = decodePayload(block.payload);
  if (!txs) return blockError(h, txs.error().message);
  if (h == 0 && !txs->empty()) return blockError(h, "genesis block carries transactions");
  return okStatus();
}

std::set<std::string> touchedAccounts(const Transaction& tx) {
  std::set<std::string> ids{tx.to};
  if (tx.kind != TxKind::kMint) ids.insert(tx.from);
  if (tx.kind == TxKind::kSettle) ids.insert(tx.treasury);
  return ids;
}

Status applyTransaction(AccountMap& accounts, const Transaction& tx) {
  DCLOUD_TRY(validateTransaction(tx));
  // Work on copies of the touched accounts and write back only when every step succeeded.
  AccountMap touched;
  for (const std::string& id : touchedAccounts(tx)) {
    auto it = accounts.find(id);
    touched[id] = it != accounts.end() ? it->second : Account{id, 0, 0};
  }
  const auto overflow = [&] {
    return invalidArgument(std::string(txKindName(tx.kind)) + " would overflow an account");
  };
  switch (tx.kind) {
    case TxKind::kMint:
      if (!checkedAdd(touched[tx.to].balance, tx.amount, touched[tx.to].balance)) return overflow();
      break;
    case TxKind::kTransfer: {
      Account& from = touched[tx.from];
      if (from.balance < tx.amount) {
        Error e = failedPrecondition("account " + tx.from + " holds " + formatMicros(from.balance) +
                                     ", cannot transfer " + formatMicros(tx.amount));
        e.reason = "insufficient-funds";
        return e;
      }
      from.balance -= tx.amount;
      if (!checkedAdd(touched[tx.to].balance, tx.amount, touched[tx.to].balance)) return overflow();
      break;
    }
    case TxKind::kSettle: {
      // Sequential updates: payer, payee and treasury may be the same account.
      if (!checkedSub(touched[tx.from].balance, tx.amount, touched[tx.from].balance) ||
          !checkedAdd(touched[tx.to].balance, tx.amount - tx.fee, touched[tx.to].balance) ||
          !checkedAdd(touched[tx.treasury].balance, tx.fee, touched[tx.treasury].balance) ||
          !checkedAdd(touched[tx.from].reputation, tx.fee, touched[tx.from].reputation) ||
          !checkedAdd(touched[tx.to].reputation, tx.fee, touched[tx.to].reputation)) {
        return overflow();
      }
      break;
    }
  }
  for (auto& [id, account] : touched) accounts[id] = std::move(account);
  return okStatus();
}

Status ChainVerifier::add(const Block& block) {
  DCLOUD_TRY(verifyBlock(block, last_ ? &*last_ : nullptr));
  const std::string& want = expected_signer_ ? *expected_signer_ : (last_ ? last_->signer : "");
  if (!want.empty() && block.signer != want) {
    return blockError(block.height, "signed by " + block.signer + ", expected " + want);
  }
  Result<std::vector<Transaction>> txs = decodePayload(block.payload);
  if (!txs) return blockError(block.height, txs.error().message);
  for (std::size_t i = 0; i < txs->size(); ++i) {
    const Transaction& tx = (*txs)[i];
    if (tx.kind == TxKind::kSettle && !settlements_.emplace(tx.receipt_id, block.height).second) {
      return blockError(block.height, "receipt " + tx.receipt_id + " settled twice");
    }
    Status applied = applyTransaction(accounts_, tx);
    if (!applied) {
      return blockError(block.height,
                        "transaction " + std::to_string(i) + ": " + applied.error().message);
    }
  }
  last_ = block;
  return okStatus();
}

Status ChainVerifier::finish(const AccountMap& stored_accounts,
                             const std::map<std::string, std::int64_t>& stored_settlements) const {
  if (!last_) return invalidArgument("the chain is empty (no genesis block)");
  std::set<std::string> ids;
  for (const auto& [id, a] : accounts_) ids.insert(id);
  for (const auto& [id, a] : stored_accounts) ids.insert(id);
  for (const std::string& id : ids) {
    auto replayed = accounts_.find(id);
    auto stored = stored_accounts.find(id);
    Account want = replayed != accounts_.end() ? replayed->second : Account{id, 0, 0};
    Account have = stored != stored_accounts.end() ? stored->second : Account{id, 0, 0};
    if (want.balance != have.balance || want.reputation != have.reputation) {
      return failedPrecondition("account " + id +
                                ": stored balance=" + std::to_string(have.balance) +
                                " reputation=" + std::to_string(have.reputation) +
                                ", replay gives balance=" + std::to_string(want.balance) +
                                " reputation=" + std::to_string(want.reputation));
    }
  }
  if (stored_settlements != settlements_) {
    for (const auto& [receipt, height] : stored_settlements) {
      auto it = settlements_.find(receipt);
      if (it == settlements_.end() || it->second != height) {
        return failedPrecondition("settlement of receipt " + receipt + " at block " +
                                  std::to_string(height) + " is not on the chain");
      }
    }
    for (const auto& [receipt, height] : settlements_) {
      if (!stored_settlements.count(receipt)) {
        return failedPrecondition("receipt " + receipt + " settled in block " +
                                  std::to_string(height) + " has no settlement record");
      }
    }
  }
  return okStatus();
}

const std::string& ChainVerifier::headHash() const {
  static const std::string kNone;
  return last_ ? last_->hash : kNone;
}

}  // namespace dcloud::ledger
