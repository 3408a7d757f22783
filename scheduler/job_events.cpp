#include "scheduler/job_events.h"

#include <algorithm>

namespace dcloud::scheduler {

namespace {
constexpr const char* kMaxEventsPerJob = "20000";
constexpr const char* kRetentionMillis = "604800000";  // a week
// Append and extend the retention in one round trip: events are published on every lease and
// completion.
constexpr const char* kPublishScript =
    "redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2], 'data', ARGV[3]); "
    "redis.call('PEXPIRE', KEYS[1], ARGV[4]); return 1";
}  // namespace

Status RedisJobEvents::publish(const std::string& job_id, const std::string& type,
                               const JsonObject& data) {
  const std::string key = redis_->key("events:" + job_id);
  auto r = redis_->command(
      {"EVAL", kPublishScript, "1", key, kMaxEventsPerJob, type, toJson(data), kRetentionMillis});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<JobEvent>> RedisJobEvents::read(const std::string& job_id,
                                                   const std::string& after,
                                                   double timeout_seconds) {
  const std::string key = redis_->key("events:" + job_id);
  // The pool's socket timeout is 5 s: block for less.
  const long long block_ms = static_cast<long long>(std::clamp(timeout_seconds, 0.0, 4.0) * 1000.0);
  std::vector<std::string> argv{"XREAD", "COUNT", "500"};
  if (block_ms > 0) {
    argv.push_back("BLOCK");
    argv.push_back(std::to_string(block_ms));
  }
  argv.insert(argv.end(), {"STREAMS", key, after.empty() ? "0" : after});
  auto r = redis_->command(argv);
  if (!r.ok()) return r.error();
  std::vector<JobEvent> out;
  if (r->type != RedisReply::Type::kArray) return out;  // nil: nothing new before the timeout
  for (const auto& stream : r->elements) {
    if (stream.elements.size() != 2) continue;
    for (const auto& entry : stream.elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      JobEvent e;
      e.id = entry.elements[0].str;
      const auto& fields = entry.elements[1].elements;
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "type") e.type = fields[i + 1].str;
        if (fields[i].str == "data") e.data = fields[i + 1].str;
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace dcloud::scheduler
