#pragma once
// Live events of a job (task leased, progress, log lines, task and job finished) in a Redis
// stream per job, read by the Server-Sent Events endpoint that `dcloud logs -f` follows. Events
// are rebuildable conveniences: publishing failures are logged, never fail the caller.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "common/redis.h"
#include "common/result.h"

namespace dcloud::scheduler {

struct JobEvent {
  std::string id;    // stream id, increasing; pass it back as `after`
  std::string type;  // "task.leased", "task.progress", "log", "task.finished", "job.finished", ...
  std::string data;  // a JSON object
};

class JobEvents {
 public:
  virtual ~JobEvents() = default;
  virtual Status publish(const std::string& job_id, const std::string& type,
                         const JsonObject& data) = 0;
  // Events after `after` ("0": from the first), waiting up to timeout_seconds when none is there.
  virtual Result<std::vector<JobEvent>> read(const std::string& job_id, const std::string& after,
                                             double timeout_seconds) = 0;
};

// Publishing queues the event and returns: a thread appends whatever is queued in one round trip
// (a script that appends each to its job's stream), so a busy region sends one Redis call per
// burst of events instead of one per lease and per completion. Events keep their order.
class RedisJobEvents final : public JobEvents {
 public:
  explicit RedisJobEvents(std::shared_ptr<RedisPool> redis) : redis_(std::move(redis)) {}
  // Sends what is queued, then stops.
  ~RedisJobEvents() override;
  RedisJobEvents(const RedisJobEvents&) = delete;
  RedisJobEvents& operator=(const RedisJobEvents&) = delete;

  // Queues the event (Unavailable, dropping it, when a stalled Redis let too many pile up).
  Status publish(const std::string& job_id, const std::string& type,
                 const JsonObject& data) override;
  Result<std::vector<JobEvent>> read(const std::string& job_id, const std::string& after,
                                     double timeout_seconds) override;
  // Returns once every event published before the call was sent (or failed to send).
  void flush();

 private:
  struct Queued {
    std::string key;
    std::string type;
    std::string data;
  };
  void run();
  std::shared_ptr<RedisPool> redis_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  std::uint64_t queued_total_ = 0;  // events ever queued
  std::uint64_t sent_total_ = 0;    // of those, sent or given up
  bool stopping_ = false;
  std::thread thread_;  // started by the first event
};

}  // namespace dcloud::scheduler
