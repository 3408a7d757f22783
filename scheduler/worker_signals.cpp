#include "scheduler/worker_signals.h"

#include <algorithm>

namespace dcloud::scheduler {

namespace {
// Heartbeat keys outlive any sensible timeout; they are judged by their recorded time.
constexpr const char* kHeartbeatRetentionMillis = "3600000";
// A worker that is not listening needs at most one pending wake-up; the list expires anyway.
constexpr const char* kWakeScript =
    "for _, k in ipairs(KEYS) do redis.call('LPUSH', k, '1'); redis.call('LTRIM', k, 0, 0); "
    "redis.call('PEXPIRE', k, 60000) end return #KEYS";
constexpr std::size_t kWakeBatch = 500;
// Finishes nobody takes (no leader, or one that is down) are dropped: the next leader reloads.
constexpr const char* kPublishFinishedScript =
    "redis.call('RPUSH', KEYS[1], ARGV[1]); redis.call('LTRIM', KEYS[1], -100000, -1); "
    "redis.call('PEXPIRE', KEYS[1], 60000) return 1";
// Takes up to 1000 queued finishes in one call.
constexpr const char* kTakeFinishedScript =
    "local r = redis.call('LRANGE', KEYS[1], 0, 999) "
    "if #r > 0 then redis.call('LTRIM', KEYS[1], #r, -1) end return r";
}  // namespace

Status WorkerSignals::wakeAll(const std::vector<std::string>& worker_ids) {
  Status result = okStatus();
  for (const auto& id : worker_ids) {
    Status s = wake(id);
    if (!s.ok()) result = s;
  }
  return result;
}

Status RedisWorkerSignals::heartbeat(const std::string& worker_id, std::int64_t now_millis) {
  auto r = redis_->command({"SET", redis_->key("hb:" + worker_id), std::to_string(now_millis), "PX",
                            kHeartbeatRetentionMillis});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<std::string>> RedisWorkerSignals::silent(
    const std::vector<std::string>& worker_ids, std::int64_t now_millis,
    std::int64_t timeout_millis) {
  std::vector<std::string> out;
  if (worker_ids.empty()) return out;
  std::vector<std::string> argv{"MGET"};
  for (const auto& id : worker_ids) argv.push_back(redis_->key("hb:" + id));
  auto r = redis_->command(argv);
  if (!r.ok()) return r.error();
  if (r->elements.size() != worker_ids.size()) return internalError("redis: short MGET reply");
  for (std::size_t i = 0; i < worker_ids.size(); ++i) {
    const RedisReply& e = r->elements[i];
    std::int64_t last = 0;
    if (e.type == RedisReply::Type::kString) {
      try {
        last = std::stoll(e.str);
      } catch (const std::exception&) {
        last = 0;  // unreadable: treat as never heard from
      }
    }
    if (e.type == RedisReply::Type::kNil || now_millis - last > timeout_millis) {
      out.push_back(worker_ids[i]);
    }
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

Status RedisWorkerSignals::wakeAll(const std::vector<std::string>& worker_ids) {
  for (std::size_t from = 0; from < worker_ids.size(); from += kWakeBatch) {
    const std::size_t to = std::min(worker_ids.size(), from + kWakeBatch);
    std::vector<std::string> argv{"EVAL", kWakeScript, std::to_string(to - from)};
    for (std::size_t i = from; i < to; ++i) argv.push_back(redis_->key("wake:" + worker_ids[i]));
    auto r = redis_->command(argv);
    if (!r.ok()) return r.error();
  }
  return okStatus();
}

Status RedisWorkerSignals::publishFinished(const std::string& attempt_id) {
  auto r = redis_->command(
      {"EVAL", kPublishFinishedScript, "1", redis_->key("finished_attempts"), attempt_id});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<std::string>> RedisWorkerSignals::takeFinished(double timeout_seconds) {
  const std::string key = redis_->key("finished_attempts");
  std::vector<std::string> out;
  auto first = redis_->blpop(key, timeout_seconds);
  if (!first.ok()) return first.error();
  if (!first->has_value()) return out;
  out.push_back(**first);
  auto rest = redis_->command({"EVAL", kTakeFinishedScript, "1", key});
  if (!rest.ok()) return out;  // the rest waits for the next call
  for (const auto& e : rest->elements) {
    if (e.type == RedisReply::Type::kString) out.push_back(e.str);
  }
  return out;
}

Result<bool> RedisWorkerSignals::waitForWake(const std::string& worker_id, double timeout_seconds) {
  auto r = redis_->blpop(redis_->key("wake:" + worker_id), timeout_seconds);
  if (!r.ok()) return r.error();
  return r->has_value();
}

}  // namespace dcloud::scheduler
