// The deeper job model in the pure core: retry backoff, train and backup validation, escrow,
// dependency cycles, unplaceable explanations, backup replica placement and preemption.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scheduler/core/dependencies.h"
#include "scheduler/core/job_spec.h"
#include "scheduler/core/matching.h"

namespace dcloud::core {
namespace {

constexpr Micros kCredit = kMicrosPerCredit;

JobSpec commandSpec() {
  JobSpec s;
  s.kind = JobKind::kCommand;
  s.command = {"true"};
  s.max_price = kCredit;
  return s;
}

TEST(RetryBackoffTest, DoublesFromTheBaseUpToTheCap) {
  JobSpec s = commandSpec();
  s.retry_backoff_seconds = 10;
  s.retry_backoff_max_seconds = 60;
  const std::vector<std::pair<int, std::int64_t>> table = {{0, 0},      {1, 10'000}, {2, 20'000},
                                                           {3, 40'000}, {4, 60'000}, {30, 60'000}};
  for (auto [failures, want] : table) {
    EXPECT_EQ(retryDelayMillis(s, failures), want) << failures << " failure(s)";
  }
  s.retry_backoff_seconds = 0;
  EXPECT_EQ(retryDelayMillis(s, 3), 0) << "no base: retry at once";
}

TEST(JobModelValidationTest, RefusesWhatCannotWork) {
  struct Case {
    const char* name;
    void (*change)(JobSpec&);
    const char* message_part;  // nullptr: valid
  };
  const std::vector<Case> cases = {
      {"plain command", [](JobSpec&) {}, nullptr},
      {"zero bid", [](JobSpec& s) { s.max_price = 0; }, "max_price must be positive"},
      {"negative bid", [](JobSpec& s) { s.max_price = -5; }, "max_price must be positive"},
      {"backoff above cap",
       [](JobSpec& s) {
         s.retry_backoff_seconds = 100;
         s.retry_backoff_max_seconds = 10;
       },
       "retry_backoff_seconds"},
      {"negative blocklist", [](JobSpec& s) { s.blocklist_after = -1; }, "blocklist_after"},
      {"priority too high", [](JobSpec& s) { s.priority = 1000; }, "priority"},
      {"after twice",
       [](JobSpec& s) {
         s.after = {"a", "a"};
       },
       "twice"},
      {"gpu model without GPUs", [](JobSpec& s) { s.gpu_model = "A100"; }, "need resources.gpus"},
      {"train without GPUs", [](JobSpec& s) { s.kind = JobKind::kTrain; },
       "train jobs need at least one GPU"},
      {"train",
       [](JobSpec& s) {
         s.kind = JobKind::kTrain;
         s.resources.gpus = 2;
         s.gpu_model = "A100";
         s.checkpoint_prefix = "s3://b/ckpt/";
       },
       nullptr},
      {"train checkpoint not s3",
       [](JobSpec& s) {
         s.kind = JobKind::kTrain;
         s.resources.gpus = 1;
         s.checkpoint_prefix = "/tmp/x";
       },
       "checkpoint_prefix"},
      {"checkpoint on a command job", [](JobSpec& s) { s.checkpoint_prefix = "s3://b/c"; },
       "checkpoint_prefix is for train"},
      {"backup",
       [](JobSpec& s) {
         s.kind = JobKind::kBackup;
         s.command.clear();
         s.capacity_gb = 100;
         s.replicas = 3;
         s.duration_days = 30;
       },
       nullptr},
      {"backup without replicas",
       [](JobSpec& s) {
         s.kind = JobKind::kBackup;
         s.command.clear();
         s.capacity_gb = 100;
         s.duration_days = 30;
       },
       "replicas"},
      {"replicas on a command job", [](JobSpec& s) { s.replicas = 2; }, "for backup jobs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    JobSpec s = commandSpec();
    c.change(s);
    Status v = validateJobSpec(s);
    if (!c.message_part) {
      EXPECT_TRUE(v.ok()) << v.error().message;
    } else {
      ASSERT_FALSE(v.ok());
      EXPECT_NE(v.error().message.find(c.message_part), std::string::npos) << v.error().message;
    }
  }
}

TEST(JobModelEscrowTest, BackupHoldsTheWholeContractAndAbsurdBidsSaturate) {
  JobSpec b;
  b.kind = JobKind::kBackup;
  b.capacity_gb = 10;
  b.replicas = 3;
  b.duration_days = 45;   // 1.5 months
  b.max_price = 100'000;  // 0.1 per GB-month
  EXPECT_EQ(jobHold(b, 1), 10 * 3 * 100'000 * 3 / 2);
  JobSpec s = commandSpec();
  s.max_price = SpecLimits{}.max_price;
  s.timeout_seconds = SpecLimits{}.max_timeout_seconds;
  s.max_attempts = 10;
  EXPECT_GT(jobHold(s, 10'000), 0) << "must not wrap negative";
}

TEST(DependencyCycleTest, FindsCyclesAndOnlyCycles) {
  struct Case {
    const char* name;
    DependencyGraph graph;
    std::vector<std::string> cycle;
  };
  const std::vector<Case> cases = {
      {"empty", {}, {}},
      {"chain", {{"c", {"b"}}, {"b", {"a"}}}, {}},
      {"diamond", {{"d", {"b", "c"}}, {"b", {"a"}}, {"c", {"a"}}}, {}},
      {"self", {{"a", {"a"}}}, {"a", "a"}},
      {"two", {{"a", {"b"}}, {"b", {"a"}}}, {"a", "b", "a"}},
      {"three behind a tail",
       {{"t", {"x"}}, {"x", {"y"}}, {"y", {"z"}}, {"z", {"x"}}},
       {"x", "y", "z", "x"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = findDependencyCycle(c.graph);
    if (c.cycle.empty()) {
      EXPECT_TRUE(got.empty()) << describeCycle(got);
      continue;
    }
    EXPECT_EQ(got, c.cycle) << describeCycle(got);
  }
  EXPECT_EQ(describeCycle({"a", "b", "a"}), "a -> b -> a");
}

TEST(DependencyCycleTest, DeepChainsDoNotOverflow) {
  DependencyGraph g;
  for (int i = 1; i < 200'000; ++i) g["j" + std::to_string(i)] = {"j" + std::to_string(i - 1)};
  EXPECT_TRUE(findDependencyCycle(g).empty());
  g["j0"] = {"j199999"};
  EXPECT_EQ(findDependencyCycle(g).size(), 200'001u);
}

Offer offer(const std::string& worker, const std::string& provider, int cores, int gpus,
            std::int64_t disk_mb = 0, Micros disk_price = 0) {
  Offer o;
  o.worker_id = worker;
  o.provider = provider;
  o.capacity = {cores, 64 * 1024, gpus, disk_mb};
  o.free = o.capacity;
  o.price_core_hour = 100'000;
  o.price_gpu_hour = gpus > 0 ? kCredit : 0;
  o.price_disk_gb_month = disk_price;
  return o;
}

TEST(UnplaceableTest, SaysWhatIsMissing) {
  const std::vector<Offer> offers = {offer("w1", "p", 8, 2), offer("w2", "p", 64, 0)};
  auto why = [&](Resources need, std::string model = "") {
    TaskDemand d{need, 100 * kCredit, 0};
    d.gpu_model = model;
    return explainUnplaceable(d, offers);
  };
  EXPECT_EQ(why({1, 1024, 8, 0}), "no alive worker has 8 GPU(s) (the most: 2)");
  EXPECT_EQ(why({128, 1024, 0, 0}), "no alive worker has 128 cores (the most: 64)");
  EXPECT_EQ(why({16, 1024, 1, 0}), "no single alive worker has all the resources together");
  EXPECT_NE(why({1, 1024, 1, 0}, "H100").find("GPU model"), std::string::npos);
  EXPECT_EQ(why({1, 1024, 1, 0}), "");
  EXPECT_EQ(explainUnplaceable({{1, 1024, 0, 0}, kCredit, 0}, {}),
            "no worker is registered and alive");
}

TEST(UnplaceableTest, BlocklistIsSeenOnlyWhenItIsAllThatStandsInTheWay) {
  const std::vector<Offer> offers = {offer("w1", "p", 8, 0), offer("w2", "p", 4, 0)};
  TaskDemand d{{2, 1024, 0, 0}, 100 * kCredit, 0};
  EXPECT_FALSE(onlyBlocklistedFit(d, offers)) << "no blocklist";
  d.excluded_workers = {"w1"};
  EXPECT_FALSE(onlyBlocklistedFit(d, offers)) << "w2 fits";
  d.excluded_workers = {"w1", "w2"};
  EXPECT_TRUE(onlyBlocklistedFit(d, offers));
  d.need.cores = 6;
  d.excluded_workers = {"w1"};
  EXPECT_TRUE(onlyBlocklistedFit(d, offers)) << "w2 is too small: only w1 fits, and it is out";
  d.need.cores = 16;
  EXPECT_FALSE(onlyBlocklistedFit(d, offers)) << "impossible anyway: not the blocklist's doing";
  d.need.cores = 2;
  d.max_price = 1;
  d.excluded_workers = {"w1", "w2"};
  EXPECT_FALSE(onlyBlocklistedFit(d, offers)) << "the bid is too low anyway";
}

TEST(ReplicaPlacementTest, CheapestDistinctProvidersAllOrNone) {
  std::vector<Offer> offers = {
      offer("a1", "alice", 4, 0, 500 * 1024, 50'000),
      offer("a2", "alice", 4, 0, 500 * 1024, 10'000),  // alice's cheapest
      offer("b1", "bob", 4, 0, 500 * 1024, 30'000),
      offer("c1", "carol", 4, 0, 50 * 1024, 5'000),  // too small
      offer("d1", "dave", 4, 0, 500 * 1024, 0),      // no storage offered
      offer("e1", "erin", 4, 0, 500 * 1024, 40'000),
  };
  TaskDemand d{{0, 0, 0, 100 * 1024}, 45'000, 0};
  auto names = [&](const std::vector<std::size_t>& picks) {
    std::vector<std::string> out;
    for (auto i : picks) out.push_back(offers[i].worker_id);
    return out;
  };
  EXPECT_EQ(names(placeReplicas(d, 2, offers)), (std::vector<std::string>{"a2", "b1"}));
  EXPECT_EQ(names(placeReplicas(d, 3, offers)), (std::vector<std::string>{"a2", "b1", "e1"}));
  EXPECT_TRUE(placeReplicas(d, 4, offers).empty()) << "all replicas or none";
  d.excluded_workers = {"b1"};
  EXPECT_EQ(names(placeReplicas(d, 2, offers)), (std::vector<std::string>{"a2", "e1"}));
  d.excluded_workers.clear();
  auto check = checkReplicasPlaceable({{0, 0, 0, 100 * 1024}, 20'000, 0}, 3, offers);
  EXPECT_EQ(check.kind, Placeability::Kind::kTooLow);
  EXPECT_EQ(check.acceptable_price, 40'000);
}

TEST(ReplicaPlacementTest, PlannerBooksEveryReplicaAndTakesTheDisk) {
  std::vector<Offer> offers = {offer("a", "alice", 4, 0, 300 * 1024, 10'000),
                               offer("b", "bob", 4, 0, 300 * 1024, 20'000)};
  QueuedTask backup("bk", "owner", {{0, 0, 0, 200 * 1024}, kCredit, 0});
  backup.replicas = 2;
  QueuedTask second("bk2", "owner", {{0, 0, 0, 200 * 1024}, kCredit, 0});
  second.replicas = 2;
  auto got = planBookings({backup, second}, offers);
  ASSERT_EQ(got.size(), 2u) << "the second backup no longer fits";
  EXPECT_TRUE(got[0].replica && got[1].replica);
  EXPECT_EQ(got[0].worker_id, "a");
  EXPECT_EQ(got[0].price, 10'000);
  EXPECT_EQ(offers[0].free.disk_mb, 100 * 1024);
}

QueuedTask waiting(const std::string& id, int priority, Resources need) {
  QueuedTask t(id, "o", {need, 100 * kCredit, 0});
  t.priority = priority;
  return t;
}

RunningTask running(const std::string& id, const std::string& worker, int priority,
                    bool preemptible, Resources need) {
  return {id, worker, priority, preemptible, need};
}

TEST(PreemptionTest, HigherPriorityTakesPreemptibleLowerPrioritySlots) {
  std::vector<Offer> offers = {offer("w1", "p", 4, 0), offer("w2", "p", 4, 0)};
  offers[0].free.cores = 0;
  offers[1].free.cores = 0;
  const std::vector<RunningTask> run = {
      running("low-a", "w1", 0, true, {2, 1024, 0, 0}),
      running("low-b", "w1", 0, true, {2, 1024, 0, 0}),
      running("low-big", "w2", 0, true, {4, 1024, 0, 0}),
  };
  auto plan = planPreemptions({waiting("urgent", 10, {4, 1024, 0, 0})}, run, offers);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].booking.task_id, "urgent");
  EXPECT_EQ(plan[0].booking.worker_id, "w2") << "one victim beats two";
  EXPECT_EQ(plan[0].victims, (std::vector<std::string>{"low-big"}));
  EXPECT_EQ(offers[1].free.cores, 0);
}

TEST(PreemptionTest, NeverPreemptsEqualHigherOrNonPreemptibleWork) {
  std::vector<Offer> offers = {offer("w1", "p", 4, 0)};
  offers[0].free.cores = 0;
  const std::vector<std::vector<RunningTask>> cases = {
      {running("same", "w1", 5, true, {4, 1024, 0, 0})},
      {running("higher", "w1", 9, true, {4, 1024, 0, 0})},
      {running("pinned", "w1", 0, false, {4, 1024, 0, 0})},
  };
  for (const auto& run : cases) {
    std::vector<Offer> copy = offers;
    EXPECT_TRUE(planPreemptions({waiting("t", 5, {4, 1024, 0, 0})}, run, copy).empty())
        << run[0].task_id;
  }
  // A victim is taken once: the second waiting task finds nothing left.
  std::vector<Offer> copy = offers;
  auto plan =
      planPreemptions({waiting("t1", 5, {4, 1024, 0, 0}), waiting("t2", 5, {4, 1024, 0, 0})},
                      {running("low", "w1", 0, true, {4, 1024, 0, 0})}, copy);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].booking.task_id, "t1");
}

}  // namespace
}  // namespace dcloud::core
