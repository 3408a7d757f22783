// JSON views of the chain. Read-only and unauthenticated: balances and blocks are public, as on
// any chain.
#include <charconv>
#include <memory>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "common/money.h"
#include "ledger-adapter/ledger_service.h"

namespace dcloud::ledger {
namespace {

JsonObject accountJson(const Account& a) {
  JsonObject obj = new Poco::JSON::Object();
  obj->set("id", a.id);
  obj->set("balance", formatMicros(a.balance));
  obj->set("balance_micros", static_cast<Poco::Int64>(a.balance));
  obj->set("reputation", formatMicros(a.reputation));
  obj->set("reputation_micros", static_cast<Poco::Int64>(a.reputation));
  return obj;
}

JsonObject txJson(const Transaction& tx) {
  JsonObject obj = new Poco::JSON::Object();
  obj->set("kind", std::string(txKindName(tx.kind)));
  obj->set("amount", formatMicros(tx.amount));
  obj->set("amount_micros", static_cast<Poco::Int64>(tx.amount));
  obj->set("to", tx.to);
  if (tx.kind != TxKind::kMint) obj->set("from", tx.from);
  if (tx.kind == TxKind::kSettle) {
    obj->set("fee", formatMicros(tx.fee));
    obj->set("fee_micros", static_cast<Poco::Int64>(tx.fee));
    obj->set("treasury", tx.treasury);
    obj->set("receipt_id", tx.receipt_id);
    obj->set("job_id", tx.job_id);
    obj->set("task_id", tx.task_id);
  }
  return obj;
}

JsonObject blockJson(const Block& b) {
  JsonObject obj = new Poco::JSON::Object();
  obj->set("height", static_cast<Poco::Int64>(b.height));
  obj->set("prev_hash", b.prev_hash);
  obj->set("created_at_ms", static_cast<Poco::Int64>(b.created_at_ms));
  obj->set("hash", b.hash);
  obj->set("signer", b.signer);
  obj->set("signature", b.signature);
  obj->set("payload", b.payload);
  JsonArray txs = new Poco::JSON::Array();
  Result<std::vector<Transaction>> decoded = decodePayload(b.payload);
  if (decoded) {
    for (const Transaction& tx : *decoded) txs->add(txJson(tx));
  }
  obj->set("transactions", txs);
  return obj;
}

ApiResponse getAccount(PgLedgerStore& store, const ApiRequest& req) {
  const std::string id = req.path_params.count("id") ? req.path_params.at("id") : "";
  if (!isValidAccountId(id)) return ApiResponse::error(invalidArgument("malformed account id"));
  Result<std::optional<Account>> a = store.account(id);
  if (!a) return ApiResponse::error(a.error());
  // An account the chain never touched simply holds nothing yet.
  return ApiResponse::json(accountJson(a->value_or(Account{id, 0, 0})));
}

ApiResponse getBlock(PgLedgerStore& store, const ApiRequest& req) {
  const std::string text = req.path_params.count("height") ? req.path_params.at("height") : "";
  std::int64_t height = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), height);
  if (ec != std::errc() || end != text.data() + text.size() || height < 0) {
    return ApiResponse::error(invalidArgument("height must be a non-negative integer"));
  }
  Result<std::optional<Block>> b = store.block(height);
  if (!b) return ApiResponse::error(b.error());
  if (!b->has_value()) return ApiResponse::error(notFound("no block at height " + text));
  return ApiResponse::json(blockJson(**b));
}

ApiResponse getChain(PgLedgerStore& store) {
  Result<ChainSummary> s = store.summary();
  if (!s) return ApiResponse::error(s.error());
  JsonObject obj = new Poco::JSON::Object();
  obj->set("height", static_cast<Poco::Int64>(s->height));
  obj->set("head_hash", s->head_hash);
  return ApiResponse::json(obj);
}

}  // namespace

Router makeLedgerRouter(PgLedgerStore& store) {
  Router router;
  PgLedgerStore* s = &store;
  router.add("GET", "/v1/accounts/{id}", Auth::kNone,
             std::make_shared<FunctionEndpoint>(
                 [s](const ApiRequest& req) { return getAccount(*s, req); }));
  router.add(
      "GET", "/v1/blocks/{height}", Auth::kNone,
      std::make_shared<FunctionEndpoint>([s](const ApiRequest& req) { return getBlock(*s, req); }));
  router.add("GET", "/v1/chain", Auth::kNone,
             std::make_shared<FunctionEndpoint>([s](const ApiRequest&) { return getChain(*s); }));
  return router;
}

}  // namespace dcloud::ledger
