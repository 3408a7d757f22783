#include "scheduler/worker_signals.h"

namespace dcloud::scheduler {

Status RedisWorkerSignals::heartbeat(const std::string& worker_id, std::int64_t ttl_millis) {
  auto r = redis_->command(
      {"SET", redis_->key("hb:" + worker_id), "1", "PX", std::to_string(ttl_millis)});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<std::string>> RedisWorkerSignals::silent(
    const std::vector<std::string>& worker_ids) {
  std::vector<std::string> out;
  if (worker_ids.empty()) return out;
  std::vector<std::string> argv{"MGET"};
  for (const auto& id : worker_ids) argv.push_back(redis_->key("hb:" + id));
  auto r = redis_->command(argv);
  if (!r.ok()) return r.error();
  if (r->elements.size() != worker_ids.size()) return internalError("redis: short MGET reply");
  for (std::size_t i = 0; i < worker_ids.size(); ++i) {
    if (r->elements[i].type == RedisReply::Type::kNil) out.push_back(worker_ids[i]);
  }
  return out;
}

Status RedisWorkerSignals::wake(const std::string& worker_id) {
  const std::string key = redis_->key("wake:" + worker_id);
  auto r = redis_->command({"LPUSH", key, "1"});
  if (!r.ok()) return r.error();
  // A worker that is not listening needs at most one pending wake-up.
  (void)redis_->command({"LTRIM", key, "0", "0"});
  (void)redis_->command({"PEXPIRE", key, "60000"});
  return okStatus();
}

Result<bool> RedisWorkerSignals::waitForWake(const std::string& worker_id, double timeout_seconds) {
  auto r = redis_->blpop(redis_->key("wake:" + worker_id), timeout_seconds);
  if (!r.ok()) return r.error();
  return r->has_value();
}

}  // namespace dcloud::scheduler
