#include "ledger-adapter/settlement.h"

#include <algorithm>
#include <cctype>

#include "common/json.h"
#include "common/receipt.h"

namespace dcloud::ledger {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

Result<Transaction> settlementFor(const OutboxRow& row, const std::string& treasury) {
  Result<JsonObject> obj = parseJsonObject(row.receipt_json);
  if (!obj) return invalidArgument("receipt is not a JSON object: " + obj.error().message);
  Result<UsageReceipt> receipt = receiptFromJson(*obj);
  if (!receipt) return invalidArgument("malformed receipt: " + receipt.error().message);
  if (!verifyReceipt(*receipt, row.provider_signature)) {
    Error e = unauthenticated("provider signature does not verify");
    e.reason = "invalid-signature";
    return e;
  }
  // The signed receipt must describe this row, or a valid receipt could be replayed elsewhere.
  if (lower(receipt->receipt_id) != row.receipt_id) {
    return invalidArgument("receipt id does not match the outbox row");
  }
  if (lower(receipt->task_id) != row.task_id || lower(receipt->job_id) != row.job_id) {
    return invalidArgument("receipt task or job does not match the outbox row");
  }
  if (receipt->provider != row.payee) {
    return invalidArgument("receipt provider is not the payee");
  }
  if (row.amount < 0) return invalidArgument("negative amount");
  Transaction tx = makeSettle(row.payer, row.payee, row.amount, treasury, row.receipt_id,
                              row.job_id, row.task_id);
  DCLOUD_TRY(validateTransaction(tx));
  return tx;
}

PreparedBatch prepareBatch(const std::vector<OutboxRow>& rows, const std::string& treasury) {
  PreparedBatch batch;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Result<Transaction> tx = settlementFor(rows[i], treasury);
    if (tx) {
      batch.txs.push_back(std::move(*tx));
      batch.tx_rows.push_back(i);
    } else {
      batch.failures.emplace_back(i, tx.error());
    }
  }
  return batch;
}

}  // namespace dcloud::ledger
