#pragma once
// Live events of a job (task leased, progress, log lines, task and job finished) in a Redis
// stream per job, read by the Server-Sent Events endpoint that `dcloud logs -f` follows. Events
// are rebuildable conveniences: publishing failures are logged, never fail the caller.

#include <memory>
#include <string>
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

class RedisJobEvents final : public JobEvents {
 public:
  explicit RedisJobEvents(std::shared_ptr<RedisPool> redis) : redis_(std::move(redis)) {}
  Status publish(const std::string& job_id, const std::string& type,
                 const JsonObject& data) override;
  Result<std::vector<JobEvent>> read(const std::string& job_id, const std::string& after,
                                     double timeout_seconds) override;

 private:
  std::shared_ptr<RedisPool> redis_;
};

}  // namespace dcloud::scheduler
