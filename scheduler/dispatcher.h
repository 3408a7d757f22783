#pragma once
// The dispatcher plans in memory and commits to PostgreSQL: each round it loads the live offers
// and the pending tasks, asks the pure core for bookings, commits them in one transaction, and
// wakes the workers that got work. The reaper declares workers lost when their heartbeat expires,
// which returns their tasks to the queue. Rounds run on a timer and whenever trigger() is called.
//
// Several schedulers may share one database; only the holder of the leader lease (a row in
// PostgreSQL, on the injected clock) plans and reaps. Each booking batch carries the lease's
// fencing token and is refused when another dispatcher has taken over since, so a paused or
// partitioned former leader cannot book anything. The others take over when the lease expires.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

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
  // Who this dispatcher is in the leader lease (empty: a random id), how long a lease lasts and
  // how often it is renewed, on the injected clock.
  std::string instance_id;
  std::int64_t leader_ttl_millis = 10'000;
  std::int64_t leader_renew_millis = 3'000;
};

class Dispatcher {
 public:
  Dispatcher(DispatcherConfig config, SchedulerStore& store, WorkerSignals& signals,
             const Clock& clock, MetricsRegistry& metrics);
  ~Dispatcher();

  void start();
  void stop();
  // Asks for a planning round soon that reloads the queue from PostgreSQL (after a submit, a
  // requeue, a new worker).
  void trigger();
  // Asks for a planning round soon after resources were freed (a task finished): the round plans
  // the queue it already holds, and reloads it only when that runs short.
  void triggerFreed();

  // One planning round with the queue reloaded; returns the number of tasks booked.
  Result<int> planOnce();
  // One liveness check; returns the number of workers declared lost.
  Result<int> reapOnce();
  // Takes or renews the leader lease when due (a database round trip at most every
  // leader_renew_millis); whether this dispatcher leads now.
  Result<bool> ensureLeadership();
  // The fencing token of the lease held, 0 when not leading.
  std::int64_t fencingToken() const { return token_.load(); }
  const std::string& instanceId() const { return config_.instance_id; }

 private:
  void run();
  Result<int> planRound(bool reload);
  // Preemption after a round's bookings, over the offers as the round left them.
  Result<int> preemptRound(std::vector<core::Offer>& offers);
  DispatcherConfig config_;
  SchedulerStore& store_;
  WorkerSignals& signals_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  Logger log_{"dispatcher"};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool triggered_ = false;
  bool reload_requested_ = false;
  bool stopping_ = false;
  std::int64_t last_reap_ = 0;
  std::int64_t redis_trouble_until_ = 0;
  std::mutex lease_mutex_;
  std::atomic<std::int64_t> token_{0};
  std::int64_t lease_until_ = 0;
  std::int64_t renewed_at_ = 0;
  // The pending tasks loaded last, less those booked since (only the leader books, so the rest
  // are still pending unless cancelled, which the commit's fence handles). Dispatcher thread only.
  std::vector<core::QueuedTask> queue_;
  bool queue_truncated_ = false;        // the load hit pending_batch: more wait in the database
  bool reload_requested_next_ = false;  // preempted tasks went back to pending
  std::thread thread_;
};

}  // namespace dcloud::scheduler
