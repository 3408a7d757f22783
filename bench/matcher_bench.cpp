// Matcher benchmark: how fast the pure core books queued tasks onto offers (issue 4's workload:
// 10,000 offers, 1,000,000 queued tasks from 500 owners, mixed CPU and GPU requirements).
// Prints key=value lines. Usage:
//   dcloud-bench-matcher [offers] [tasks] [owners] [indexed|scan]
// `scan` runs the first version (round robin, a scan of every offer per task) on the same
// workload, for comparison; run it with fewer tasks, its cost per decision does not depend on them.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/core/matcher.h"

using namespace dcloud::core;
using dcloud::kMicrosPerCredit;
using dcloud::Micros;

namespace {

struct Rng {
  std::uint64_t s = 42;
  std::uint64_t operator()() {  // splitmix64
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::int64_t in(std::int64_t lo, std::int64_t hi) { return lo + (*this)() % (hi - lo + 1); }
};

constexpr Micros kCredit = kMicrosPerCredit;

std::vector<Offer> makeOffers(int n, Rng& rnd) {
  std::vector<Offer> offers;
  for (int i = 0; i < n; ++i) {
    Offer o;
    o.worker_id = "w" + std::to_string(i);
    o.provider = "p" + std::to_string(i % 997);
    const bool gpu = rnd() % 100 < 15;
    const int cores = gpu ? 16 << rnd.in(0, 2) : 8 << rnd.in(0, 3);
    o.capacity = {cores, cores * 1024 * (2 << rnd.in(0, 2)), gpu ? 1 << rnd.in(0, 3) : 0,
                  rnd.in(200, 2000) * 1024};
    o.free = o.capacity;
    o.price_core_hour = rnd.in(10'000, 100'000);
    o.price_gpu_hour = gpu ? rnd.in(500'000, 3 * kCredit) : 0;
    o.reputation = rnd.in(0, 100) * kCredit;
    offers.push_back(o);
  }
  return offers;
}

// Jobs of 100..4,000 identical tasks, each from a random owner, as pendingTasks returns them
// (by job creation, then task index).
std::vector<QueuedTask> makeQueue(int tasks, int owners, Rng& rnd) {
  std::vector<QueuedTask> queue;
  queue.reserve(tasks);
  for (int job = 0; static_cast<int>(queue.size()) < tasks; ++job) {
    QueuedTask t;
    t.owner = "o" + std::to_string(rnd() % owners);
    t.job_id = "j" + std::to_string(job);
    const bool gpu = rnd() % 100 < 10;
    const int cores = gpu ? 2 << rnd.in(0, 2) : 1 << rnd.in(0, 3);
    t.demand.need = {cores, cores * 1024 * rnd.in(1, 4), gpu ? 1 << rnd.in(0, 2) : 0,
                     rnd.in(0, 10) * 1024};
    // Bids around the going rate: some jobs bid too little for any offer.
    t.demand.max_price =
        cores * rnd.in(5'000, 150'000) + t.demand.need.gpus * rnd.in(0, 4 * kCredit);
    t.demand.min_reputation = rnd() % 10 < 7 ? 0 : rnd.in(0, 80) * kCredit;
    t.priority = static_cast<int>(rnd.in(0, 10));
    t.enqueued_at_ms = rnd.in(0, 3'600'000);
    const int size = static_cast<int>(rnd.in(100, 4000));
    for (int k = 0; k < size && static_cast<int>(queue.size()) < tasks; ++k) {
      t.task_id = t.job_id + "-" + std::to_string(k);
      queue.push_back(t);
    }
  }
  return queue;
}

// The first version of pickOffer: one scan of every offer, cheapest fitting wins.
std::optional<std::size_t> scanPick(const TaskDemand& d, const std::vector<Offer>& offers) {
  std::optional<std::size_t> best;
  Micros best_price = 0;
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const Offer& o = offers[i];
    if (!fits(o.free, d.need) || o.reputation < d.min_reputation) continue;
    const Micros price = hourlyPrice(o, d.need);
    if (price > d.max_price) continue;
    const Offer* b = best ? &offers[*best] : nullptr;
    if (!b || price < best_price ||
        (price == best_price && (o.free.cores > b->free.cores ||
                                 (o.free.cores == b->free.cores && o.worker_id < b->worker_id)))) {
      best = i;
      best_price = price;
    }
  }
  return best;
}

// The first version of planBookings: owners in strict round robin, a scan per task.
std::vector<Booking> scanPlan(const std::vector<QueuedTask>& queue, std::vector<Offer>& offers) {
  std::vector<std::deque<const QueuedTask*>> per_owner;
  std::map<std::string, std::size_t> owner_index;
  for (const QueuedTask& t : queue) {
    auto [it, inserted] = owner_index.emplace(t.owner, per_owner.size());
    if (inserted) per_owner.emplace_back();
    per_owner[it->second].push_back(&t);
  }
  std::vector<Booking> out;
  for (bool progressed = true; progressed;) {
    progressed = false;
    for (auto& tasks : per_owner) {
      while (!tasks.empty()) {
        const QueuedTask* t = tasks.front();
        tasks.pop_front();
        auto pick = scanPick(t->demand, offers);
        if (!pick) continue;
        Offer& o = offers[*pick];
        o.free.cores -= t->demand.need.cores;
        o.free.memory_mb -= t->demand.need.memory_mb;
        o.free.gpus -= t->demand.need.gpus;
        o.free.disk_mb -= t->demand.need.disk_mb;
        out.push_back({t->task_id, o.worker_id, hourlyPrice(o, t->demand.need)});
        progressed = true;
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int offers_n = argc > 1 ? std::atoi(argv[1]) : 10'000;
  const int tasks_n = argc > 2 ? std::atoi(argv[2]) : 1'000'000;
  const int owners_n = argc > 3 ? std::atoi(argv[3]) : 500;
  const bool scan = argc > 4 && std::strcmp(argv[4], "scan") == 0;
  if (offers_n < 0 || tasks_n < 0 || owners_n <= 0) {
    std::fprintf(stderr, "usage: dcloud-bench-matcher [offers] [tasks] [owners] [indexed|scan]\n");
    return 2;
  }
  Rng rnd;
  std::vector<Offer> offers = makeOffers(offers_n, rnd);
  std::vector<QueuedTask> queue = makeQueue(tasks_n, owners_n, rnd);
  PlanOptions options;
  options.now_ms = 3'600'000;
  for (int i = 0; i < owners_n; i += 10) options.owner_weights["o" + std::to_string(i)] = 2;
  for (int i = 5; i < owners_n; i += 10) options.owner_limits["o" + std::to_string(i)] = 200;

  const auto start = std::chrono::steady_clock::now();
  std::vector<Booking> bookings =
      scan ? scanPlan(queue, offers) : planBookings(queue, offers, options);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Every queued task is one decision: booked, or found to fit nowhere now.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "bench=matcher\nmode=%s\noffers=%d\ntasks=%d\nowners=%d\nbooked=%zu\nseconds=%.6f\n"
      "decisions_per_s=%.0f\nbookings_per_s=%.0f\npeak_rss_mib=%.1f\n",
      scan ? "scan" : "indexed", offers_n, tasks_n, owners_n, bookings.size(), secs, tasks_n / secs,
      bookings.size() / secs, usage.ru_maxrss / 1024.0);
  return 0;
}
