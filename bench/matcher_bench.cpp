// Matcher benchmark: how fast the pure core books queued tasks onto offers.
// Prints key=value lines. Usage: dcloud-bench-matcher [offers] [tasks] [owners]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "scheduler/core/matching.h"

using namespace dcloud::core;

int main(int argc, char** argv) {
  const int offers_n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int tasks_n = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int owners_n = argc > 3 ? std::atoi(argv[3]) : 50;
  std::vector<Offer> offers;
  unsigned seed = 42;
  auto rnd = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  for (int i = 0; i < offers_n; ++i) {
    Offer o;
    o.worker_id = "w" + std::to_string(i);
    o.provider = "p" + std::to_string(i % 97);
    o.capacity = {static_cast<int>(4 + rnd() % 60), 8192 + static_cast<long>(rnd() % 100000),
                  static_cast<int>(rnd() % 3), 100000};
    o.free = o.capacity;
    o.price_core_hour = 100000 + rnd() % 900000;
    o.price_gpu_hour = 1000000 + rnd() % 4000000;
    o.reputation = rnd() % 1000;
    offers.push_back(o);
  }
  std::vector<QueuedTask> queue;
  for (int i = 0; i < tasks_n; ++i) {
    QueuedTask t;
    t.task_id = "t" + std::to_string(i);
    t.owner = "o" + std::to_string(i % owners_n);
    t.demand.need = {static_cast<int>(1 + rnd() % 4), 1024, rnd() % 10 == 0 ? 1 : 0, 0};
    t.demand.max_price = 2000000 + rnd() % 8000000;
    t.demand.min_reputation = rnd() % 500;
    queue.push_back(t);
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<Booking> bookings = planBookings(queue, offers);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "bench=matcher\noffers=%d\ntasks=%d\nowners=%d\nbooked=%zu\nseconds=%.6f\n"
      "decisions_per_s=%.0f\n",
      offers_n, tasks_n, owners_n, bookings.size(), secs, tasks_n / secs);
  return 0;
}
