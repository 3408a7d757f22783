#pragma once
// Heartbeats and wake-ups through Redis. Only rebuildable state lives here: losing Redis delays
// dispatch and liveness checks but loses no job. A heartbeat records the scheduler's clock, and
// silence is judged against that clock, so liveness follows the injected Clock (tests advance a
// ManualClock instead of sleeping); the Redis TTL only cleans up.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/redis.h"
#include "common/result.h"

namespace dcloud::scheduler {

class WorkerSignals {
 public:
  virtual ~WorkerSignals() = default;
  virtual Status heartbeat(const std::string& worker_id, std::int64_t now_millis) = 0;
  // The subset of worker_ids with no heartbeat within timeout_millis before now_millis.
  virtual Result<std::vector<std::string>> silent(const std::vector<std::string>& worker_ids,
                                                  std::int64_t now_millis,
                                                  std::int64_t timeout_millis) = 0;
  virtual Status wake(const std::string& worker_id) = 0;
  // Wakes many workers; by default one wake() each.
  virtual Status wakeAll(const std::vector<std::string>& worker_ids);
  // Waits up to timeout for a wake-up; true if woken.
  virtual Result<bool> waitForWake(const std::string& worker_id, double timeout_seconds) = 0;
  // An attempt that finished through a scheduler that does not lead, for the leader's offer
  // book. A lost message is harmless: the leader's periodic reload sees the finish anyway.
  virtual Status publishFinished(const std::string& attempt_id) = 0;
  // Waits up to timeout_seconds (> 0) for published finishes and takes them (one consumer: the
  // leader); empty on timeout.
  virtual Result<std::vector<std::string>> takeFinished(double timeout_seconds) = 0;
};

class RedisWorkerSignals final : public WorkerSignals {
 public:
  explicit RedisWorkerSignals(std::shared_ptr<RedisPool> redis) : redis_(std::move(redis)) {}
  Status heartbeat(const std::string& worker_id, std::int64_t now_millis) override;
  Result<std::vector<std::string>> silent(const std::vector<std::string>& worker_ids,
                                          std::int64_t now_millis,
                                          std::int64_t timeout_millis) override;
  Status wake(const std::string& worker_id) override;
  // One round trip per few hundred workers rather than three per worker.
  Status wakeAll(const std::vector<std::string>& worker_ids) override;
  Result<bool> waitForWake(const std::string& worker_id, double timeout_seconds) override;
  // A bounded list (the newest 100,000, expiring a minute after the last push).
  Status publishFinished(const std::string& attempt_id) override;
  Result<std::vector<std::string>> takeFinished(double timeout_seconds) override;

 private:
  std::shared_ptr<RedisPool> redis_;
};

}  // namespace dcloud::scheduler
