#pragma once
// The dispatcher plans in memory and commits to PostgreSQL: each round it asks the pure core to
// book the pending tasks it holds onto the offers it holds, commits the bookings in one
// transaction, and wakes the workers that got work. Offers live in an OfferBook: reloaded from
// PostgreSQL when workers come or go, on a timer, and when this dispatcher starts leading; in
// between they follow the attempts it books and the attempts whose completion this process
// accepted (attemptFinished), or that another scheduler's API accepted and published through Redis
// (receiveFinished), so a round after a completion reads nothing from the database. The
// reaper declares workers lost when their heartbeat expires, which returns their tasks to the
// queue. Rounds run on a timer and whenever trigger() is called.
//
// Several schedulers may share one database; only the holder of the leader lease (a row in
// PostgreSQL, on the injected clock) plans and reaps. Each booking batch carries the lease's
// fencing token and is refused when another dispatcher has taken over since, so a paused or
// partitioned former leader cannot book anything. The others take over when the lease expires.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "scheduler/lease_handoff.h"
#include "scheduler/store.h"
#include "scheduler/worker_signals.h"

namespace dcloud::scheduler {

struct DispatcherConfig {
  std::int64_t plan_interval_millis = 500;
  // How old the offers may get before a round reloads them. Between reloads they miss only what
  // other processes changed: completions accepted by another scheduler's API, reputations.
  std::int64_t offer_refresh_millis = 2'000;
  // How long the leader's listener waits on Redis for other schedulers' finishes per call (it
  // bounds how long stop() waits for it).
  double finished_poll_seconds = 0.5;
  // Nice value of the planning thread (negative: more CPU than request threads; needs root).
  int thread_nice = -10;
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
  // Asks for a planning round soon that reloads the queue and the offers from PostgreSQL (a
  // worker came or went, an attempt was requeued).
  void trigger();
  // Asks for a planning round soon that reloads the queue (a pause or resume, a retry).
  void triggerQueued();
  // Tasks of a job just committed, ready at once (no dependencies), as pendingTasks would load
  // them: the next round adds them to the queue it holds instead of reloading it. A dispatcher
  // that does not lead, or holds only part of the queue, reloads instead.
  void submitted(std::vector<core::QueuedTask> tasks);
  // An attempt this process saw finish no longer holds its worker's resources: a planning round
  // soon gives them out again, from the queue it holds (reloaded only when that runs short).
  // A dispatcher that does not lead publishes it (WorkerSignals::publishFinished) for the
  // leader's book instead.
  void attemptFinished(const std::string& attempt_id);
  // Waits up to timeout_seconds (> 0) for finishes published by other schedulers and hands them
  // to the next round like attemptFinished; the number taken. The listener thread calls it while
  // leading; tests call it directly.
  Result<int> receiveFinished(double timeout_seconds);

  // One planning round; returns the number of tasks booked. By default it reloads the queue and
  // the offers, as a round after a submit and a new worker does; reload_offers = false plans on
  // the offers held, as a round after a completion does.
  Result<int> planOnce(bool reload_queue = true, bool reload_offers = true);
  // One liveness check; returns the number of workers declared lost. It also releases backup
  // placements past their expiry on the injected clock (their disk returns to the offers).
  Result<int> reapOnce();
  // Takes or renews the leader lease when due (a database round trip at most every
  // leader_renew_millis); whether this dispatcher leads now.
  Result<bool> ensureLeadership();
  // The fencing token of the lease held, 0 when not leading.
  std::int64_t fencingToken() const { return token_.load(); }
  // Where this process's long polls wait while it leads: its bookings for them come by hand.
  LeaseHandoff& handoff() { return handoff_; }
  const std::string& instanceId() const { return config_.instance_id; }

 private:
  void run();
  // No longer leading: the fencing token goes, and polls waiting by hand look again.
  void dropLead();
  // While leading, takes the finishes other schedulers publish (see receiveFinished).
  void listen();
  void enqueueFinished(std::vector<std::string> attempts);
  Result<int> planRound(bool reload_queue, bool reload_offers);
  // Reloads the offer book when asked, stale or empty, then applies the finishes reported since.
  Status refreshOffers(bool reload);
  // Reloads the queue when asked (dropping the submits reported before the reload: it holds
  // them), else appends the submits reported since the last round.
  Status refreshQueue(bool reload, std::int64_t free_cores);
  // Records which jobs' ready tasks only blocklisted workers could run (their wait_reason says
  // so), and clears the reason of those that some other worker could run now.
  void explainBlocklisted(const std::vector<core::Offer>& offers,
                          const std::unordered_set<std::string_view>& booked);
  // Preemption after a round's bookings, over the offers as the round left them.
  Result<int> preemptRound(std::vector<core::Offer>& offers);
  // After a booking commit: hands the reserved workers' work to their polls (what a poll that
  // left cannot take goes back to the database), tells polls of the other booked workers to
  // read the database, and wakes those workers' polls in other processes through Redis.
  void handOver(const std::unordered_set<std::string>& reserved, BookedBatch& booked);
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
  bool reload_offers_requested_ = false;
  std::vector<std::string> finished_attempts_;  // reported since the last round (under mutex_)
  std::vector<core::QueuedTask> submitted_;     // reported since the last round (under mutex_)
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
  core::OfferBook offer_book_;          // dispatcher thread only
  // Jobs whose wait_reason this dispatcher set to the blocklist one. Dispatcher thread only.
  std::unordered_set<std::string> blocklist_noted_;
  bool offers_fresh_ = false;  // false: the next round reloads the book
  std::int64_t offers_loaded_at_ = 0;
  LeaseHandoff handoff_;
  std::thread thread_;
  std::thread listener_;
};

}  // namespace dcloud::scheduler
