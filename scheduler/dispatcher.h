#pragma once
// The dispatcher plans in memory and commits to PostgreSQL: each round it loads the live offers
// and the pending tasks, asks the pure core for bookings, commits them in one transaction, and
// wakes the workers that got work. The reaper declares workers lost when their heartbeat expires,
// which returns their tasks to the queue. Rounds run on a timer and whenever trigger() is called.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "scheduler/store.h"
#include "scheduler/worker_signals.h"

namespace dcloud::scheduler {

struct DispatcherConfig {
  std::int64_t plan_interval_millis = 500;
  std::int64_t reap_interval_millis = 1000;
  std::int64_t heartbeat_timeout_millis = 10'000;
  int pending_batch = 10'000;
};

class Dispatcher {
 public:
  Dispatcher(DispatcherConfig config, SchedulerStore& store, WorkerSignals& signals,
             const Clock& clock, MetricsRegistry& metrics);
  ~Dispatcher();

  void start();
  void stop();
  // Asks for a planning round soon (after a submit, a completion, a new worker).
  void trigger();

  // One planning round; returns the number of tasks booked.
  Result<int> planOnce();
  // One liveness check; returns the number of workers declared lost.
  Result<int> reapOnce();

 private:
  void run();
  DispatcherConfig config_;
  SchedulerStore& store_;
  WorkerSignals& signals_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  Logger log_{"dispatcher"};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool triggered_ = false;
  bool stopping_ = false;
  std::int64_t last_reap_ = 0;
  std::int64_t redis_trouble_until_ = 0;
  std::thread thread_;
};

}  // namespace dcloud::scheduler
