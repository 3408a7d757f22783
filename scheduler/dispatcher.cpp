#include "scheduler/dispatcher.h"

#include <chrono>

namespace dcloud::scheduler {

Dispatcher::Dispatcher(DispatcherConfig config, SchedulerStore& store, WorkerSignals& signals,
                       const Clock& clock, MetricsRegistry& metrics)
    : config_(config), store_(store), signals_(signals), clock_(clock), metrics_(metrics) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::trigger() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
  }
  cv_.notify_all();
}

Result<int> Dispatcher::planOnce() {
  auto offers = store_.loadOffers();
  if (!offers.ok()) return offers.error();
  if (offers->empty()) return 0;
  auto queue = store_.pendingTasks(config_.pending_batch);
  if (!queue.ok()) return queue.error();
  if (queue->empty()) return 0;
  core::PlanOptions options;
  options.now_ms = clock_.nowMillis();
  std::vector<core::Booking> bookings = core::planBookings(*queue, *offers, options);
  if (bookings.empty()) return 0;
  auto woken = store_.commitBookings(bookings);
  if (!woken.ok()) return woken.error();
  for (const auto& worker : *woken) {
    Status s = signals_.wake(worker);
    if (!s.ok()) log_.warn("cannot wake worker " + worker + ": " + s.error().message);
  }
  metrics_.counter("dcloud_scheduler_bookings_total", "Tasks booked onto workers")
      .inc(static_cast<double>(bookings.size()));
  log_.info("booked " + std::to_string(bookings.size()) + " task(s) onto " +
            std::to_string(woken->size()) + " worker(s)");
  return static_cast<int>(bookings.size());
}

Result<int> Dispatcher::reapOnce() {
  const std::int64_t now = clock_.nowMillis();
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
  log_.info("started");
  while (true) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(config_.plan_interval_millis),
                   [&] { return triggered_ || stopping_; });
      if (stopping_) break;
      triggered_ = false;
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
    auto planned = planOnce();
    if (!planned.ok()) log_.warn("planning failed: " + planned.error().message);
  }
  log_.info("stopped");
}

}  // namespace dcloud::scheduler
