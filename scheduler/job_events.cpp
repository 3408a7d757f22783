#include "scheduler/job_events.h"

#include <algorithm>

#include "common/log.h"

namespace dcloud::scheduler {

namespace {
constexpr const char* kMaxEventsPerJob = "20000";
constexpr const char* kRetentionMillis = "604800000";  // a week
// Events sent in one call at most, and queued at most (a stalled Redis must not eat memory).
constexpr std::size_t kBatch = 500;
constexpr std::size_t kMaxQueued = 100'000;
// Appends each event to its job's stream and extends the stream's retention: KEYS are the
// streams, ARGV the bound and retention, then a type and data per key.
constexpr const char* kPublishScript =
    "for i = 1, #KEYS do "
    "redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2 * i + 1], "
    "'data', ARGV[2 * i + 2]); "
    "redis.call('PEXPIRE', KEYS[i], ARGV[2]) end; return #KEYS";
}  // namespace

RedisJobEvents::~RedisJobEvents() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RedisJobEvents::publish(const std::string& job_id, const std::string& type,
                               const JsonObject& data) {
  Queued event{redis_->key("events:" + job_id), type, toJson(data)};
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) return unavailable("too many events wait for Redis");
    queue_.push_back(std::move(event));
    ++queued_total_;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_all();
  return okStatus();
}

void RedisJobEvents::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = queued_total_;
  cv_.wait(lock, [&] { return sent_total_ >= target || !thread_.joinable(); });
}

void RedisJobEvents::run() {
  Logger log("events");
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, nothing left to send
    std::vector<Queued> batch;
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<std::string> argv{"EVAL", kPublishScript, std::to_string(batch.size())};
    argv.reserve(3 + batch.size() * 3 + 2);
    for (const auto& e : batch) argv.push_back(e.key);
    argv.push_back(kMaxEventsPerJob);
    argv.push_back(kRetentionMillis);
    for (auto& e : batch) {
      argv.push_back(std::move(e.type));
      argv.push_back(std::move(e.data));
    }
    auto sent = redis_->command(argv);
    if (!sent.ok()) {
      log.warn("cannot publish " + std::to_string(batch.size()) +
               " job event(s): " + sent.error().message);
    }
    lock.lock();
    sent_total_ += batch.size();
    cv_.notify_all();  // flush() waits on it
  }
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
