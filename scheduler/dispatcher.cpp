#include "scheduler/dispatcher.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/random.h"

namespace dcloud::scheduler {

Dispatcher::Dispatcher(DispatcherConfig config, SchedulerStore& store, WorkerSignals& signals,
                       const Clock& clock, MetricsRegistry& metrics)
    : config_(std::move(config)),
      store_(store),
      signals_(signals),
      clock_(clock),
      metrics_(metrics) {
  if (config_.instance_id.empty()) config_.instance_id = SecureRandom::instance().uuid();
}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  listener_ = std::thread([this] { listen(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (listener_.joinable()) listener_.join();
}

void Dispatcher::trigger() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
    reload_requested_ = true;
    reload_offers_requested_ = true;
  }
  cv_.notify_all();
}

void Dispatcher::triggerQueued() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
    reload_requested_ = true;
  }
  cv_.notify_all();
}

void Dispatcher::submitted(std::vector<core::QueuedTask> tasks) {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
    // Bounded like the finishes; past the bound the queue is reloaded instead.
    if (submitted_.size() + tasks.size() > 100'000) {
      reload_requested_ = true;
    } else {
      for (auto& t : tasks) submitted_.push_back(std::move(t));
    }
  }
  cv_.notify_all();
}

void Dispatcher::attemptFinished(const std::string& attempt_id) {
  if (token_.load() == 0) {
    // The leader's book would see it only at its next reload. Should this process have just
    // taken the lead, its own listener takes the message; a lost one costs only that delay.
    Status s = signals_.publishFinished(attempt_id);
    if (!s.ok()) log_.warn("cannot publish a finished attempt: " + s.error().message);
    return;
  }
  enqueueFinished({attempt_id});
}

void Dispatcher::enqueueFinished(std::vector<std::string> attempts) {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
    // Bounded: a dispatcher that is not leading drops them each round.
    for (auto& a : attempts) {
      if (finished_attempts_.size() >= 1'000'000) break;
      finished_attempts_.push_back(std::move(a));
    }
  }
  cv_.notify_all();
}

Result<int> Dispatcher::receiveFinished(double timeout_seconds) {
  auto taken = signals_.takeFinished(timeout_seconds);
  if (!taken.ok()) return taken.error();
  const int n = static_cast<int>(taken->size());
  if (n == 0) return 0;
  // Applied after any reload, like this process's own: the book frees an attempt only while it
  // holds it, so a finish reported twice (or already seen by a reload) frees nothing again.
  enqueueFinished(std::move(*taken));
  metrics_
      .counter("dcloud_scheduler_remote_finishes_total",
               "Finished attempts learned from other schedulers through Redis")
      .inc(static_cast<double>(n));
  return n;
}

void Dispatcher::listen() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) break;
      if (token_.load() == 0) {
        // Only the leader takes them: a follower would swallow what the leader needs.
        cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
        continue;
      }
    }
    auto taken = receiveFinished(config_.finished_poll_seconds);
    if (!taken.ok()) {
      log_.warn("cannot read finished attempts from Redis: " + taken.error().message);
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    }
  }
}

Result<bool> Dispatcher::ensureLeadership() {
  std::lock_guard lock(lease_mutex_);
  const std::int64_t now = clock_.nowMillis();
  if (token_ != 0 && now < lease_until_ && now - renewed_at_ < config_.leader_renew_millis) {
    return true;
  }
  auto token = store_.acquireLeadership(config_.instance_id, now, config_.leader_ttl_millis);
  if (!token.ok()) {
    // Unknown: keep planning only while the lease we hold is certainly valid; the fence refuses
    // our bookings anyway once someone else holds it.
    if (now >= lease_until_) dropLead();
    return token.error();
  }
  const std::int64_t before = token_;
  if (!token->has_value()) {
    if (before != 0) log_.warn("lost the leader lease to another scheduler");
    dropLead();
    return false;
  }
  token_ = **token;
  lease_until_ = now + config_.leader_ttl_millis;
  renewed_at_ = now;
  if (before != token_) {
    log_.info("leading (fencing token " + std::to_string(token_.load()) + ")");
    metrics_.counter("dcloud_scheduler_leader_changes_total", "Leader leases taken").inc();
  }
  return true;
}

void Dispatcher::dropLead() {
  if (token_.exchange(0) != 0) handoff_.pokeAll();  // their work now comes through Redis
}

Result<int> Dispatcher::planOnce(bool reload_queue, bool reload_offers) {
  return planRound(reload_queue, reload_offers);
}

Status Dispatcher::refreshOffers(bool reload) {
  const std::int64_t now = clock_.nowMillis();
  if (reload || !offers_fresh_ || offer_book_.empty() ||
      now - offers_loaded_at_ >= config_.offer_refresh_millis) {
    auto snapshot = store_.loadOfferSnapshot();
    if (!snapshot.ok()) {
      offers_fresh_ = false;
      return snapshot.error();
    }
    offer_book_.reset(std::move(snapshot->idle), std::move(snapshot->active));
    offers_fresh_ = true;
    offers_loaded_at_ = now;
  }
  // After the reload, never before: a finish committed before the snapshot names an attempt the
  // book no longer holds (nothing happens); one committed after it frees what the snapshot held.
  std::vector<std::string> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(finished_attempts_);
  }
  for (const auto& attempt : finished) offer_book_.finished(attempt);
  return okStatus();
}

Status Dispatcher::refreshQueue(bool reload, std::int64_t free_cores) {
  if (reload_requested_next_) {
    reload = true;
    reload_requested_next_ = false;
  }
  // Reloading costs a sort of every pending task in SQL: between reloads a round plans what is
  // left of the last load and the submits reported since, unless that is fewer tasks than the
  // free cores could take while more wait in the database.
  if (!reload && queue_truncated_ && static_cast<std::int64_t>(queue_.size()) < free_cores) {
    reload = true;
  }
  std::vector<core::QueuedTask> fresh;
  {
    std::lock_guard lock(mutex_);
    fresh.swap(submitted_);
  }
  // Taken before the reload's query: each was committed before it was reported, so the reload
  // holds it. Submits reported after this point wait for the next round.
  if (reload) {
    auto queue = store_.pendingTasks(config_.pending_batch, clock_.nowMillis());
    if (!queue.ok()) return queue.error();
    queue_ = std::move(*queue);
    queue_truncated_ = static_cast<int>(queue_.size()) >= config_.pending_batch;
    return okStatus();
  }
  if (fresh.empty()) return okStatus();
  if (queue_truncated_) {
    // Older tasks wait in the database: new ones must not overtake them.
    reload_requested_next_ = true;
    return okStatus();
  }
  // A submit reported after a reload's query may be in what it loaded already.
  std::unordered_set<std::string_view> held;
  held.reserve(queue_.size());
  for (const auto& t : queue_) held.insert(t.task_id);
  std::vector<core::QueuedTask> added;
  for (auto& t : fresh) {
    if (!held.count(t.task_id)) added.push_back(std::move(t));
  }
  for (auto& t : added) queue_.push_back(std::move(t));
  return okStatus();
}

Result<int> Dispatcher::planRound(bool reload, bool reload_offers) {
  auto leading = ensureLeadership();
  if (!leading.ok()) return leading.error();
  if (!*leading) {
    blocklist_noted_.clear();  // the leader keeps them
    queue_.clear();
    queue_truncated_ = true;  // taking the lead later starts with a reload
    offers_fresh_ = false;
    std::lock_guard lock(mutex_);
    finished_attempts_.clear();
    submitted_.clear();
    return 0;
  }
  // Round timings (real time: this is measurement, not logic) go to the log.
  const auto started = std::chrono::steady_clock::now();
  if (Status s = refreshOffers(reload_offers); !s.ok()) return s.error();
  std::vector<core::Offer> offers = offer_book_.offers();
  if (offers.empty()) return 0;
  const auto loaded = std::chrono::steady_clock::now();
  std::int64_t free_cores = 0;
  for (const auto& o : offers) free_cores += std::max(0, o.free.cores);
  if (Status q = refreshQueue(reload, free_cores); !q.ok()) return q.error();
  if (queue_.empty()) return 0;
  const auto queued = std::chrono::steady_clock::now();
  core::PlanOptions options;
  options.now_ms = clock_.nowMillis();
  std::vector<core::Booking> bookings = core::planBookings(queue_, offers, options);
  std::unordered_set<std::string_view> booked_ids;
  for (const auto& b : bookings) booked_ids.insert(b.task_id);
  explainBlocklisted(offers, booked_ids);
  if (bookings.empty()) return preemptRound(offers);
  {
    // Booked or fenced off by the commit below: either way no longer ours to plan.
    std::vector<core::QueuedTask> rest;
    rest.reserve(queue_.size() - std::min(queue_.size(), bookings.size()));
    for (auto& t : queue_) {
      if (!booked_ids.count(t.task_id)) rest.push_back(std::move(t));
    }
    queue_ = std::move(rest);
  }
  const auto planned = std::chrono::steady_clock::now();
  std::vector<std::string> booked_workers;
  for (const auto& b : bookings) {
    if (!b.replica) booked_workers.push_back(b.worker_id);
  }
  const std::unordered_set<std::string> reserved = handoff_.reserve(booked_workers);
  auto booked = store_.commitBookings(bookings, token_, clock_.nowMillis(), reserved);
  const auto committed = std::chrono::steady_clock::now();
  if (!booked.ok()) {
    for (const auto& worker : reserved) handoff_.fulfil(worker, {});
    if (booked.error().code == ErrorCode::kConflict) {
      std::lock_guard lock(lease_mutex_);
      dropLead();  // fenced: someone else leads now
    }
    queue_.clear();
    queue_truncated_ = true;
    offers_fresh_ = false;
    return booked.error();
  }
  for (const auto& a : booked->attempts) offer_book_.booked(a);
  if (booked->placed_replicas) offers_fresh_ = false;  // placements hold disk: reload
  std::size_t by_hand = 0;
  for (const auto& [worker, work] : booked->handed) by_hand += work.size();
  handOver(reserved, *booked);
  const std::size_t woken = booked->woken.size();
  metrics_.counter("dcloud_scheduler_bookings_total", "Tasks booked onto workers")
      .inc(static_cast<double>(bookings.size()));
  auto preempted = preemptRound(offers);
  if (!preempted.ok()) log_.warn("preemption failed: " + preempted.error().message);
  const auto millis = [](auto from, auto to) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
  };
  const auto done = std::chrono::steady_clock::now();
  log_.info("booked " + std::to_string(bookings.size()) + " task(s), " + std::to_string(by_hand) +
            " handed over, " + std::to_string(woken) + " worker(s) woken, in " +
            millis(started, done) + " ms (offers " + millis(started, loaded) + ", queue " +
            millis(loaded, queued) + ", plan " + millis(queued, planned) + ", commit " +
            millis(planned, committed) + ", wake and preempt " + millis(committed, done) + ")");
  return static_cast<int>(bookings.size());
}

void Dispatcher::handOver(const std::unordered_set<std::string>& reserved, BookedBatch& booked) {
  std::unordered_map<std::string, std::vector<Assignment>> by_worker;
  by_worker.swap(booked.handed);
  for (const auto& worker : reserved) {
    auto it = by_worker.find(worker);
    std::vector<Assignment> work;
    if (it != by_worker.end()) work = std::move(it->second);
    // fulfil leaves the work alone when it refuses it.
    if (handoff_.fulfil(worker, work)) continue;
    // Its poll left meanwhile: the work waits in the database for the worker's next poll.
    Status s = store_.releaseAssignments(worker, work);
    if (!s.ok()) log_.warn("cannot release work for worker " + worker + ": " + s.error().message);
    booked.woken.push_back(worker);
  }
  handoff_.poke(booked.woken);
  // Workers poll the database now and then anyway: a lost wake-up only delays them.
  Status s = signals_.wakeAll(booked.woken);
  if (!s.ok()) log_.warn("cannot wake workers: " + s.error().message);
}

void Dispatcher::explainBlocklisted(const std::vector<core::Offer>& offers,
                                    const std::unordered_set<std::string_view>& booked) {
  // Only tasks with a blocklist can be held back by one; a job with a task booked this round is
  // not (and the booking clears its reason).
  std::unordered_set<std::string_view> jobs_booked;
  bool any_blocklist = false;
  for (const auto& t : queue_) {
    if (t.demand.excluded_workers.empty()) continue;
    any_blocklist = true;
    if (booked.count(t.task_id)) jobs_booked.insert(t.job_id);
  }
  if (!any_blocklist) return;
  std::vector<std::string> blocked;
  std::vector<std::string> cleared;
  std::unordered_set<std::string_view> seen;
  for (const auto& t : queue_) {
    if (t.demand.excluded_workers.empty() || t.replicas > 0) continue;
    if (!seen.insert(t.job_id).second) continue;
    if (jobs_booked.count(t.job_id)) {
      blocklist_noted_.erase(t.job_id);
      continue;
    }
    const bool only_blocklisted = core::onlyBlocklistedFit(t.demand, offers);
    const bool noted = blocklist_noted_.count(t.job_id) > 0;
    if (only_blocklisted && !noted) blocked.push_back(t.job_id);
    if (!only_blocklisted && noted) cleared.push_back(t.job_id);
  }
  if (blocked.empty() && cleared.empty()) return;
  Status s = store_.noteBlocklisted(blocked, cleared);
  if (!s.ok()) {
    log_.warn("cannot record blocklist wait reasons: " + s.error().message);
    return;
  }
  // Bounded: jobs that finished while noted are forgotten wholesale now and then (noting again
  // writes the same reason).
  if (blocklist_noted_.size() > 100'000) blocklist_noted_.clear();
  for (auto& j : blocked) blocklist_noted_.insert(std::move(j));
  for (const auto& j : cleared) blocklist_noted_.erase(j);
}

Result<int> Dispatcher::preemptRound(std::vector<core::Offer>& offers) {
  // Only tasks that found no room this round, and only when one outranks some preemptible
  // running task: the query below is an index probe that finds nothing in the usual case.
  if (queue_.empty()) return 0;
  int top = std::numeric_limits<int>::min();
  for (const auto& t : queue_) top = std::max(top, t.priority);
  if (top == std::numeric_limits<int>::min()) return 0;
  auto running = store_.preemptibleTasks(top);
  if (!running.ok()) return running.error();
  if (running->empty()) return 0;
  std::vector<core::QueuedTask> waiting = queue_;
  std::stable_sort(waiting.begin(), waiting.end(),
                   [](const auto& a, const auto& b) { return a.priority > b.priority; });
  auto plan = core::planPreemptions(waiting, *running, offers);
  if (plan.empty()) return 0;
  std::unordered_set<std::string_view> planned;
  for (const auto& p : plan) planned.insert(p.booking.task_id);
  std::erase_if(queue_, [&](const core::QueuedTask& t) { return planned.count(t.task_id) > 0; });
  auto booked = store_.commitPreemptions(plan, token_);
  if (!booked.ok()) {
    queue_.clear();
    queue_truncated_ = true;
    offers_fresh_ = false;
    return booked.error();
  }
  // The victims are pending again and their attempts hold nothing: the next round must see both.
  reload_requested_next_ = true;
  offers_fresh_ = false;
  handOver({}, *booked);
  std::size_t victims = 0;
  for (const auto& p : plan) victims += p.victims.size();
  metrics_.counter("dcloud_scheduler_preemptions_total", "Running tasks preempted")
      .inc(static_cast<double>(victims));
  log_.info("preempted " + std::to_string(victims) + " task(s) for " + std::to_string(plan.size()) +
            " higher-priority task(s)");
  return static_cast<int>(plan.size());
}

Result<int> Dispatcher::reapOnce() {
  auto leading = ensureLeadership();
  if (!leading.ok()) return leading.error();
  if (!*leading) return 0;
  const std::int64_t now = clock_.nowMillis();
  // Backup contracts that ended give their disk back (no Redis needed for that).
  auto released = store_.releaseExpiredPlacements(now);
  if (!released.ok()) {
    log_.warn("cannot release expired placements: " + released.error().message);
  } else if (*released > 0) {
    offers_fresh_ = false;  // the next round sees the disk free
    log_.info("released " + std::to_string(*released) + " expired backup placement(s)");
    metrics_.counter("dcloud_scheduler_placements_expired_total", "Backup placements released")
        .inc(static_cast<double>(*released));
  }
  if (now < redis_trouble_until_) return 0;  // heartbeats may have been lost with Redis
  auto alive = store_.aliveWorkerIds();
  if (!alive.ok()) return alive.error();
  auto silent = signals_.silent(*alive, now, config_.heartbeat_timeout_millis);
  if (!silent.ok()) {
    // Without Redis we cannot tell a dead worker from a live one: reap nobody, and give workers a
    // whole timeout to heartbeat again once Redis is back.
    redis_trouble_until_ = now + config_.heartbeat_timeout_millis;
    return silent.error();
  }
  int lost = 0;
  for (const auto& worker : *silent) {
    auto requeued = store_.markWorkerLost(worker, "worker stopped heartbeating");
    if (!requeued.ok()) return requeued.error();
    ++lost;
    log_.warn("worker " + worker + " lost (no heartbeat); " + std::to_string(*requeued) +
              " task(s) back in the queue");
    metrics_.counter("dcloud_scheduler_workers_lost_total", "Workers declared lost").inc();
  }
  return lost;
}

void Dispatcher::run() {
  // The planning loop is the one serial section of the scheduler: every request thread waits on
  // it. Under load it would get the same CPU share as each of hundreds of request threads, so it
  // runs at a higher priority where allowed (root; a no-op otherwise).
  if (config_.thread_nice != 0 &&
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), config_.thread_nice) != 0) {
    log_.info("running at normal priority (cannot renice the planning thread)");
  }
  log_.info("started");
  while (true) {
    bool reload = true;
    bool reload_offers = true;
    {
      std::unique_lock lock(mutex_);
      // A round on the timer (nothing triggered) reloads: it catches what other schedulers'
      // APIs changed.
      const bool woken = cv_.wait_for(lock, std::chrono::milliseconds(config_.plan_interval_millis),
                                      [&] { return triggered_ || stopping_; });
      if (stopping_) break;
      reload = !woken || reload_requested_;
      // A timer round reloads the offers only when they are older than offer_refresh_millis.
      reload_offers = reload_offers_requested_;
      triggered_ = false;
      reload_requested_ = false;
      reload_offers_requested_ = false;
    }
    const std::int64_t now = clock_.nowMillis();
    if (now - last_reap_ >= config_.reap_interval_millis) {
      last_reap_ = now;
      auto reaped = reapOnce();
      if (!reaped.ok())
        log_.warn("liveness check failed: " + reaped.error().message);
      else if (*reaped > 0)
        trigger();
    }
    auto planned = planRound(reload, reload_offers);
    if (!planned.ok()) log_.warn("planning failed: " + planned.error().message);
  }
  log_.info("stopped");
}

}  // namespace dcloud::scheduler
