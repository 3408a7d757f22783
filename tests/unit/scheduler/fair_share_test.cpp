// Who books next: priority and ageing within an owner, weighted dominant-resource fair share
// between owners, per-owner limits. Each case is a queue, a cluster and PlanOptions in, the
// order of booked task ids out.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "scheduler/core/matching.h"

namespace dcloud::core {
namespace {

constexpr Micros kCredit = kMicrosPerCredit;

Offer worker(const std::string& id, int cores, int gpus = 0) {
  Offer o;
  o.worker_id = id;
  o.capacity = {cores, 1024 * 1024, gpus, 0};
  o.free = o.capacity;
  o.price_core_hour = 1;
  o.price_gpu_hour = 1;
  return o;
}

QueuedTask task(const std::string& id, const std::string& owner, int priority = 0,
                std::int64_t enqueued_at_ms = 0, int cores = 1, int gpus = 0) {
  QueuedTask t;
  t.task_id = id;
  t.owner = owner;
  t.demand = {{cores, 1024, gpus, 0}, 100 * kCredit, 0};
  t.priority = priority;
  t.enqueued_at_ms = enqueued_at_ms;
  return t;
}

struct Case {
  const char* name;
  std::vector<Offer> offers;
  std::vector<QueuedTask> queue;
  PlanOptions options;
  std::vector<std::string> booked;
};

PlanOptions weights(std::map<std::string, double> w) {
  PlanOptions o;
  o.owner_weights = std::move(w);
  return o;
}

PlanOptions limits(std::map<std::string, int> running, std::map<std::string, int> limit,
                   int fallback = 0) {
  PlanOptions o;
  o.owner_running = std::move(running);
  o.owner_limits = std::move(limit);
  o.default_owner_limit = fallback;
  return o;
}

PlanOptions ageing(std::int64_t now_ms, std::int64_t step_ms) {
  PlanOptions o;
  o.now_ms = now_ms;
  o.ageing_step_ms = step_ms;
  return o;
}

PlanOptions usage(std::map<std::string, Resources> used) {
  PlanOptions o;
  o.owner_usage = std::move(used);
  return o;
}

std::vector<Case> cases() {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  return {
      {"higher priority first within an owner",
       {worker("w", 3)},
       {task("low", "a", 0), task("high", "a", 5), task("mid", "a", 2), task("high2", "a", 5)},
       {},
       {"high", "high2", "mid"}},
      {"priority does not jump another owner's turn",
       {worker("w", 2)},
       {task("a1", "a", 0), task("b1", "b", 100), task("b2", "b", 100)},
       {},
       {"a1", "b1"}},
      {"an old low-priority task overtakes a newer high-priority one",
       {worker("w", 1)},
       {task("old", "a", 0, 0), task("new", "a", 3, 3'500'000)},
       ageing(3'600'000, 60'000),
       {"old"}},
      {"not yet old enough",
       {worker("w", 1)},
       {task("old", "a", 0, 0), task("new", "a", 3, 3'500'000)},
       ageing(150'000, 60'000),
       {"new"}},
      {"ageing off",
       {worker("w", 1)},
       {task("old", "a", 0, 0), task("new", "a", 3, 3'500'000)},
       ageing(3'600'000, 0),
       {"new"}},
      {"a task enqueued after now gets no boost and no penalty",
       {worker("w", 1)},
       {task("future", "a", 1, 9'000'000), task("now", "a", 0, 0)},
       ageing(60'000, 60'000),
       {"future"}},
      {"weight 2 books twice as often",
       {worker("w", 6)},
       {task("a1", "a"), task("a2", "a"), task("a3", "a"), task("a4", "a"), task("a5", "a"),
        task("b1", "b"), task("b2", "b"), task("b3", "b"), task("b4", "b")},
       weights({{"b", 2}}),
       {"a1", "b1", "b2", "a2", "b3", "b4"}},
      {"weights that are not positive numbers count as 1",
       {worker("w", 4)},
       {task("a1", "a"), task("a2", "a"), task("b1", "b"), task("b2", "b")},
       weights({{"a", 0}, {"b", kNan}}),
       {"a1", "b1", "a2", "b2"}},
      {"an owner already using much of the cluster waits",
       {worker("w", 4)},
       {task("a1", "a"), task("a2", "a"), task("b1", "b"), task("b2", "b")},
       usage({{"a", {3, 0, 0, 0}}}),
       {"b1", "b2", "a1", "a2"}},
      {"dominant resource: one GPU of two outweighs one core of many",
       {worker("g", 16, 2)},
       {task("g1", "gpu", 0, 0, 1, 1), task("g2", "gpu", 0, 0, 1, 1), task("c1", "cpu", 0, 0, 2),
        task("c2", "cpu", 0, 0, 2), task("c3", "cpu", 0, 0, 2)},
       {},
       {"g1", "c1", "c2", "c3", "g2"}},
      {"an owner at its limit books nothing",
       {worker("w", 8)},
       {task("a1", "a"), task("b1", "b"), task("b2", "b")},
       limits({{"a", 2}}, {{"a", 2}}),
       {"b1", "b2"}},
      {"a limit counts this round's bookings",
       {worker("w", 8)},
       {task("a1", "a"), task("a2", "a"), task("a3", "a"), task("b1", "b")},
       limits({{"a", 1}}, {{"a", 3}}),
       {"a1", "b1", "a2"}},
      {"the default limit applies to owners not listed",
       {worker("w", 8)},
       {task("a1", "a"), task("a2", "a"), task("b1", "b"), task("b2", "b"), task("b3", "b")},
       limits({}, {{"b", 3}}, 1),
       {"a1", "b1", "b2", "b3"}},
  };
}

TEST(FairShareTest, Table) {
  for (Case& c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> got;
    for (const Booking& b : planBookings(c.queue, c.offers, c.options)) got.push_back(b.task_id);
    EXPECT_EQ(got, c.booked);
  }
}

// Many owners, one of them flooding the queue: everyone else still gets an equal turn.
TEST(FairShareTest, AFloodFromOneOwnerDoesNotStarveOthers) {
  std::vector<QueuedTask> queue;
  for (int i = 0; i < 10'000; ++i) queue.push_back(task("flood" + std::to_string(i), "flood"));
  for (int o = 0; o < 9; ++o) {
    for (int i = 0; i < 5; ++i) {
      queue.push_back(
          task("t" + std::to_string(o) + "-" + std::to_string(i), "o" + std::to_string(o)));
    }
  }
  std::vector<Offer> offers = {worker("w", 50)};
  std::map<std::string, int> per_owner;
  for (const Booking& b : planBookings(queue, offers)) ++per_owner[b.task_id.substr(0, 2)];
  EXPECT_EQ(per_owner["fl"], 5);
  for (int o = 0; o < 9; ++o) EXPECT_EQ(per_owner["t" + std::to_string(o)], 5) << o;
}

}  // namespace
}  // namespace dcloud::core
