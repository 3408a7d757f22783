// Matching: which offer one task gets (pickOffer), whether a bid can be placed at all
// (checkPlaceable), and a planning round over many tasks and owners (planBookings).
#include "scheduler/core/matching.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace dcloud::core {
namespace {

constexpr Micros kCredit = kMicrosPerCredit;

Offer offer(const std::string& id, int cores, Micros core_price, Micros reputation = 0) {
  Offer o;
  o.worker_id = id;
  o.provider = "p-" + id;
  o.capacity = {cores, 16 * 1024, 0, 100'000};
  o.free = o.capacity;
  o.price_core_hour = core_price;
  o.reputation = reputation;
  return o;
}

TaskDemand demand(int cores, Micros max_price, Micros min_reputation = 0) {
  TaskDemand d;
  d.need = {cores, 1024, 0, 0};
  d.max_price = max_price;
  d.min_reputation = min_reputation;
  return d;
}

std::string picked(const TaskDemand& d, const std::vector<Offer>& offers) {
  auto i = pickOffer(d, offers);
  return i ? offers[*i].worker_id : "none";
}

TEST(HourlyPriceTest, CoresAndGpus) {
  Offer o = offer("w", 8, 250'000);
  o.price_gpu_hour = 2 * kCredit;
  EXPECT_EQ(hourlyPrice(o, {1, 1024, 0, 0}), 250'000);
  EXPECT_EQ(hourlyPrice(o, {4, 1024, 0, 0}), kCredit);
  EXPECT_EQ(hourlyPrice(o, {2, 1024, 3, 0}), 500'000 + 6 * kCredit);
}

TEST(FitsTest, EveryDimension) {
  const Resources have{4, 4096, 1, 1000};
  EXPECT_TRUE(fits(have, {4, 4096, 1, 1000}));
  EXPECT_TRUE(fits(have, {1, 16, 0, 0}));
  EXPECT_FALSE(fits(have, {5, 16, 0, 0}));
  EXPECT_FALSE(fits(have, {1, 4097, 0, 0}));
  EXPECT_FALSE(fits(have, {1, 16, 2, 0}));
  EXPECT_FALSE(fits(have, {1, 16, 0, 1001}));
}

TEST(PickOfferTest, NoOffers) {
  EXPECT_EQ(picked(demand(1, kCredit), {}), "none");
}

TEST(PickOfferTest, ResourceFilters) {
  TaskDemand d = demand(2, 10 * kCredit);
  d.need = {2, 2048, 1, 500};
  Offer ok = offer("ok", 2, kCredit);
  ok.free = ok.capacity = {2, 2048, 1, 500};
  Offer few_cores = ok, little_memory = ok, no_gpu = ok, small_disk = ok;
  few_cores.worker_id = "a";
  few_cores.free.cores = 1;
  little_memory.worker_id = "b";
  little_memory.free.memory_mb = 2047;
  no_gpu.worker_id = "c";
  no_gpu.free.gpus = 0;
  small_disk.worker_id = "d";
  small_disk.free.disk_mb = 499;
  // Every other offer is cheaper and sorts first, but only "ok" has room.
  for (Offer* o : {&few_cores, &little_memory, &no_gpu, &small_disk}) o->price_core_hour = 1;
  EXPECT_EQ(picked(d, {few_cores, little_memory, no_gpu, small_disk}), "none");
  EXPECT_EQ(picked(d, {few_cores, little_memory, ok, no_gpu, small_disk}), "ok");
}

TEST(PickOfferTest, UsesFreeResourcesNotCapacity) {
  Offer busy = offer("busy", 8, 1);
  busy.free.cores = 0;
  EXPECT_EQ(picked(demand(1, kCredit), {busy}), "none");
  busy.free.cores = 1;
  EXPECT_EQ(picked(demand(1, kCredit), {busy}), "busy");
}

TEST(PickOfferTest, ReputationFilter) {
  EXPECT_EQ(picked(demand(1, kCredit, 50), {offer("low", 4, 1, 49)}), "none");
  EXPECT_EQ(picked(demand(1, kCredit, 50), {offer("low", 4, 1, 49), offer("eq", 4, 2, 50)}), "eq");
  EXPECT_EQ(picked(demand(1, kCredit, 0), {offer("new", 4, 1, 0)}), "new");
}

TEST(PickOfferTest, PriceFilterUsesTheWholeNeed) {
  // 2 cores at 0.6 = 1.2 per hour: above a bid of 1.0, equal to a bid of 1.2.
  EXPECT_EQ(picked(demand(2, kCredit), {offer("w", 4, 600'000)}), "none");
  EXPECT_EQ(picked(demand(2, 1'200'000), {offer("w", 4, 600'000)}), "w");
  EXPECT_EQ(picked(demand(1, kCredit), {offer("w", 4, 600'000)}), "w");
}

TEST(PickOfferTest, CheapestWinsWhateverTheOrder) {
  std::vector<Offer> offers = {offer("mid", 4, 500'000), offer("cheap", 4, 300'000),
                               offer("dear", 4, 900'000)};
  EXPECT_EQ(picked(demand(1, kCredit), offers), "cheap");
  std::swap(offers[0], offers[1]);
  EXPECT_EQ(picked(demand(1, kCredit), offers), "cheap");
  std::swap(offers[0], offers[2]);
  EXPECT_EQ(picked(demand(1, kCredit), offers), "cheap");
}

TEST(PickOfferTest, TiesGoToMoreFreeCoresThenLowerWorkerId) {
  Offer a = offer("a", 8, 500'000), b = offer("b", 8, 500'000), c = offer("c", 8, 500'000);
  a.free.cores = 2;
  b.free.cores = 6;
  c.free.cores = 6;
  EXPECT_EQ(picked(demand(1, kCredit), {a, b, c}), "b");
  EXPECT_EQ(picked(demand(1, kCredit), {c, b, a}), "b");
  b.free.cores = 7;
  EXPECT_EQ(picked(demand(1, kCredit), {c, a, b}), "b");
  // Price still beats free cores.
  a.price_core_hour = 499'999;
  EXPECT_EQ(picked(demand(1, kCredit), {c, b, a}), "a");
}

TEST(CheckPlaceableTest, Placeable) {
  Placeability p =
      checkPlaceable(demand(1, kCredit), {offer("dear", 4, 2 * kCredit), offer("ok", 4, kCredit)});
  EXPECT_EQ(p.kind, Placeability::Kind::kPlaceable);
}

TEST(CheckPlaceableTest, JudgedOnCapacityNotFreeResources) {
  Offer busy = offer("busy", 4, kCredit);
  busy.free = {0, 0, 0, 0};
  EXPECT_EQ(checkPlaceable(demand(4, 4 * kCredit), {busy}).kind, Placeability::Kind::kPlaceable);
}

TEST(CheckPlaceableTest, TooLowNamesTheLowestAcceptablePrice) {
  // The cheapest offer overall cannot hold the task and the one below the reputation floor does
  // not count: the acceptable price is the lowest among offers that fit.
  Offer tiny = offer("tiny", 1, 100'000, 100);
  Offer shady = offer("shady", 8, 200'000, 0);
  Offer a = offer("a", 8, 700'000, 100), b = offer("b", 8, 600'000, 100);
  Placeability p = checkPlaceable(demand(2, kCredit, 50), {tiny, shady, a, b});
  EXPECT_EQ(p.kind, Placeability::Kind::kTooLow);
  EXPECT_EQ(p.acceptable_price, 1'200'000);
  // Bidding exactly that is enough.
  EXPECT_EQ(checkPlaceable(demand(2, 1'200'000, 50), {tiny, shady, a, b}).kind,
            Placeability::Kind::kPlaceable);
}

TEST(CheckPlaceableTest, NoOffer) {
  EXPECT_EQ(checkPlaceable(demand(1, kCredit), {}).kind, Placeability::Kind::kNoOffer);
  EXPECT_EQ(checkPlaceable(demand(16, 100 * kCredit), {offer("w", 8, 1)}).kind,
            Placeability::Kind::kNoOffer);
  EXPECT_EQ(checkPlaceable(demand(1, kCredit, 10), {offer("w", 8, 1, 9)}).kind,
            Placeability::Kind::kNoOffer);
  EXPECT_EQ(checkPlaceable(demand(1, kCredit), {offer("w", 8, 1)}).acceptable_price, 0);
}

QueuedTask task(const std::string& id, const std::string& owner, int cores = 1,
                Micros max_price = kCredit) {
  return {id, owner, demand(cores, max_price)};
}

std::vector<std::string> bookedTasks(const std::vector<Booking>& b) {
  std::vector<std::string> out;
  for (const auto& x : b) out.push_back(x.task_id);
  return out;
}

TEST(PlanBookingsTest, CapacityIsRespected) {
  std::vector<Offer> offers = {offer("w", 4, 100'000)};
  std::vector<QueuedTask> queue;
  for (int i = 0; i < 6; ++i) queue.push_back(task("t" + std::to_string(i), "alice"));
  std::vector<Booking> b = planBookings(queue, offers);
  EXPECT_EQ(bookedTasks(b), (std::vector<std::string>{"t0", "t1", "t2", "t3"}));
  EXPECT_EQ(offers[0].free.cores, 0);
  EXPECT_EQ(offers[0].free.memory_mb, 16 * 1024 - 4 * 1024);
  for (const auto& x : b) {
    EXPECT_EQ(x.worker_id, "w");
    EXPECT_EQ(x.price, 100'000);
  }
}

TEST(PlanBookingsTest, MemoryIsRespected) {
  std::vector<Offer> offers = {offer("w", 64, 1)};
  offers[0].free.memory_mb = 3000;
  std::vector<QueuedTask> queue = {task("a", "o"), task("b", "o"), task("c", "o")};
  EXPECT_EQ(planBookings(queue, offers).size(), 2u);
}

TEST(PlanBookingsTest, OwnersTakeTurns) {
  // Alice queued ten tasks before Bob queued two; with room for four, Bob still gets two.
  std::vector<Offer> offers = {offer("w", 4, 1)};
  std::vector<QueuedTask> queue;
  for (int i = 0; i < 10; ++i) queue.push_back(task("a" + std::to_string(i), "alice"));
  queue.push_back(task("b0", "bob"));
  queue.push_back(task("b1", "bob"));
  EXPECT_EQ(bookedTasks(planBookings(queue, offers)),
            (std::vector<std::string>{"a0", "b0", "a1", "b1"}));
}

TEST(PlanBookingsTest, ThreeOwnersInterleavedQueue) {
  std::vector<Offer> offers = {offer("w", 100, 1)};
  std::vector<QueuedTask> queue = {task("a0", "a"), task("a1", "a"), task("b0", "b"),
                                   task("a2", "a"), task("c0", "c"), task("b1", "b")};
  EXPECT_EQ(bookedTasks(planBookings(queue, offers)),
            (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "a2"}));
}

TEST(PlanBookingsTest, ATaskThatFitsNowhereDoesNotBlockLaterTasks) {
  std::vector<Offer> offers = {offer("w", 4, 100'000)};
  std::vector<QueuedTask> queue = {task("huge", "alice", 64), task("cheap-bid", "alice", 1, 1),
                                   task("small", "alice", 1), task("b", "bob", 1)};
  EXPECT_EQ(bookedTasks(planBookings(queue, offers)), (std::vector<std::string>{"small", "b"}));
}

TEST(PlanBookingsTest, SpreadsEqualOffers) {
  std::vector<Offer> offers = {offer("w1", 4, 1), offer("w2", 4, 1)};
  std::vector<QueuedTask> queue = {task("t0", "o"), task("t1", "o"), task("t2", "o"),
                                   task("t3", "o")};
  std::map<std::string, int> per_worker;
  for (const auto& b : planBookings(queue, offers)) ++per_worker[b.worker_id];
  EXPECT_EQ(per_worker["w1"], 2);
  EXPECT_EQ(per_worker["w2"], 2);
}

TEST(PlanBookingsTest, FillsTheCheapestFirstThenSpillsOver) {
  std::vector<Offer> offers = {offer("dear", 4, 900'000), offer("cheap", 2, 100'000)};
  std::vector<QueuedTask> queue = {task("t0", "o"), task("t1", "o"), task("t2", "o")};
  std::vector<Booking> b = planBookings(queue, offers);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].worker_id, "cheap");
  EXPECT_EQ(b[1].worker_id, "cheap");
  EXPECT_EQ(b[2].worker_id, "dear");
  EXPECT_EQ(b[2].price, 900'000);
}

TEST(PlanBookingsTest, EmptyInputs) {
  std::vector<Offer> none;
  EXPECT_TRUE(planBookings({task("t", "o")}, none).empty());
  std::vector<Offer> offers = {offer("w", 4, 1)};
  EXPECT_TRUE(planBookings({}, offers).empty());
  EXPECT_EQ(offers[0].free.cores, 4);
}

}  // namespace
}  // namespace dcloud::core
