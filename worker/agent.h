#pragma once
// The provider's agent: registers this machine's offer with the scheduler, heartbeats, long-polls
// for leases and runs each leased task on its own thread. Stops cleanly: running attempts are
// cancelled and reported failed so the scheduler requeues them at once.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/identity.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/money.h"
#include "common/random.h"
#include "worker/hardware.h"
#include "worker/sandbox.h"
#include "worker/task_runner.h"

namespace dcloud::worker {

struct AgentConfig {
  std::string scheduler_url;
  std::string scratch_dir;
  Micros price_core_hour = 0;
  Micros price_gpu_hour = 0;
  int cores = 0;               // 0: all detected
  std::int64_t memory_mb = 0;  // 0: detected
  std::string blender = "/usr/bin/blender";
  std::int64_t lease_wait_millis = 10'000;
  // A finished task's completion also asks for the next work booked onto the freed resources,
  // waiting this long for it (0: no). Worth it on a one-slot worker; with several slots the lease
  // loop, which waits already, is woken first and the completion would only linger.
  std::int64_t next_lease_wait_millis = 0;
};

class Agent {
 public:
  Agent(AgentConfig config, const KeyPair& provider_key, Sandbox& sandbox, const Clock& clock,
        Random& random, MetricsRegistry& metrics);
  ~Agent();

  // Registers, then serves leases until stop(). Fails only if registration is impossible.
  Status run();
  void stop();
  const std::string& workerId() const { return worker_id_; }

 private:
  Status registerOffer();
  void heartbeatLoop();
  void startTask(const JsonObject& obj);
  void reapFinished();

  struct Running {
    std::string attempt_id;
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
    std::thread thread;
  };

  AgentConfig config_;
  const KeyPair& key_;
  Sandbox& sandbox_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  ApiClient scheduler_;
  Logger log_{"worker"};
  HardwareReport hardware_;
  std::string worker_id_;
  std::int64_t heartbeat_interval_millis_ = 2000;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Running>> running_;  // by attempt id
  std::thread heartbeat_;
};

}  // namespace dcloud::worker
