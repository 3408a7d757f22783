#include "common/receipt.h"

namespace dcloud {

std::string receiptSigningString(const UsageReceipt& r) {
  return "dcloud-receipt-v1\n" + r.receipt_id + "\n" + r.task_id + "\n" + r.job_id + "\n" +
         r.worker_id + "\n" + r.provider + "\n" + std::to_string(r.cpu_millis) + "\n" +
         std::to_string(r.wall_millis) + "\n" + std::to_string(r.peak_memory_bytes) + "\n" +
         std::to_string(r.bytes_out) + "\n" + std::to_string(r.exit_code);
}

std::string signReceipt(const UsageReceipt& r, const KeyPair& provider_key) {
  return provider_key.sign(receiptSigningString(r));
}

bool verifyReceipt(const UsageReceipt& r, const std::string& signature_hex) {
  return verifySignature(r.provider, receiptSigningString(r), signature_hex);
}

JsonObject receiptToJson(const UsageReceipt& r) {
  JsonObject o = new Poco::JSON::Object;
  o->set("receipt_id", r.receipt_id);
  o->set("task_id", r.task_id);
  o->set("job_id", r.job_id);
  o->set("worker_id", r.worker_id);
  o->set("provider", r.provider);
  o->set("cpu_millis", r.cpu_millis);
  o->set("wall_millis", r.wall_millis);
  o->set("peak_memory_bytes", r.peak_memory_bytes);
  o->set("bytes_out", r.bytes_out);
  o->set("exit_code", r.exit_code);
  return o;
}

Result<UsageReceipt> receiptFromJson(const JsonObject& obj) {
  if (!obj) return invalidArgument("receipt is missing");
  DCLOUD_TRY(requireOnlyFields(
      obj, {"receipt_id", "task_id", "job_id", "worker_id", "provider", "cpu_millis", "wall_millis",
            "peak_memory_bytes", "bytes_out", "exit_code"}));
  UsageReceipt r;
  auto str = [&](const char* key, std::string& out) -> Status {
    auto v = getString(obj, key);
    if (!v.ok()) return Error{ErrorCode::kInvalidArgument, "receipt: " + v.error().message};
    out = *v;
    return okStatus();
  };
  auto num = [&](const char* key, std::int64_t& out) -> Status {
    auto v = getInt(obj, key);
    if (!v.ok()) return Error{ErrorCode::kInvalidArgument, "receipt: " + v.error().message};
    if (*v < 0) return invalidArgument(std::string("receipt: ") + key + " is negative");
    out = *v;
    return okStatus();
  };
  DCLOUD_TRY(str("receipt_id", r.receipt_id));
  DCLOUD_TRY(str("task_id", r.task_id));
  DCLOUD_TRY(str("job_id", r.job_id));
  DCLOUD_TRY(str("worker_id", r.worker_id));
  DCLOUD_TRY(str("provider", r.provider));
  DCLOUD_TRY(num("cpu_millis", r.cpu_millis));
  DCLOUD_TRY(num("wall_millis", r.wall_millis));
  DCLOUD_TRY(num("peak_memory_bytes", r.peak_memory_bytes));
  DCLOUD_TRY(num("bytes_out", r.bytes_out));
  auto code = getInt(obj, "exit_code");
  if (!code.ok()) return Error{ErrorCode::kInvalidArgument, "receipt: " + code.error().message};
  if (*code < -255 || *code > 255) return invalidArgument("receipt: exit_code out of range");
  r.exit_code = static_cast<int>(*code);
  if (!isValidPrincipalId(r.provider)) return invalidArgument("receipt: provider is not a key id");
  return r;
}

}  // namespace dcloud
