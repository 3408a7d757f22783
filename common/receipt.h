#pragma once
// The usage receipt a worker sends when a task attempt ends, signed by its provider key. The
// scheduler checks it before accepting a completion and the ledger adapter checks it again before
// paying, so a receipt cannot be altered anywhere on the way.

#include <cstdint>
#include <string>

#include "common/identity.h"
#include "common/json.h"
#include "common/result.h"

namespace dcloud {

struct UsageReceipt {
  std::string receipt_id;  // the attempt id of the booking (a UUID): one receipt per attempt
  std::string task_id;
  std::string job_id;
  std::string worker_id;
  std::string provider;  // provider principal id (hex public key)
  std::int64_t cpu_millis = 0;
  std::int64_t wall_millis = 0;
  std::int64_t peak_memory_bytes = 0;
  std::int64_t bytes_out = 0;
  int exit_code = 0;
};

// The exact byte string that is signed: "dcloud-receipt-v1\n" then each field on its own line in
// declaration order.
std::string receiptSigningString(const UsageReceipt& r);
std::string signReceipt(const UsageReceipt& r, const KeyPair& provider_key);
bool verifyReceipt(const UsageReceipt& r, const std::string& signature_hex);

JsonObject receiptToJson(const UsageReceipt& r);
// Strict: every field required, no unknown fields, no negative numbers.
Result<UsageReceipt> receiptFromJson(const JsonObject& obj);

}  // namespace dcloud
