#pragma once
// From scheduler outbox rows to settle transactions: every receipt is checked again here (its
// provider signature and that it matches the row) before anyone is paid.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/money.h"
#include "common/result.h"
#include "ledger-adapter/chain.h"

namespace dcloud::ledger {

// One scheduler.outbox row, as read by the adapter (uuids in PostgreSQL's lowercase form).
struct OutboxRow {
  std::int64_t id = 0;
  std::string receipt_id;
  std::string task_id;
  std::string job_id;
  std::string payer;  // the job owner
  std::string payee;  // the provider
  Micros amount = 0;
  std::string receipt_json;  // the worker's usage receipt, as stored
  std::string provider_signature;
};

// The settle transaction that pays row, or why it must not be paid: InvalidArgument for a
// malformed or mismatched receipt, Unauthenticated for a signature that does not verify.
Result<Transaction> settlementFor(const OutboxRow& row, const std::string& treasury);

struct PreparedBatch {
  std::vector<Transaction> txs;
  std::vector<std::size_t> tx_rows;                     // txs[i] comes from rows[tx_rows[i]]
  std::vector<std::pair<std::size_t, Error>> failures;  // row index, why
};
PreparedBatch prepareBatch(const std::vector<OutboxRow>& rows, const std::string& treasury);

}  // namespace dcloud::ledger
