// The indexed Matcher: it must answer exactly what the pickOffer scan answers (checked on random
// clusters with fixed seeds, while offers fill up and free up), and keep GPU hosts for GPU work.
#include "scheduler/core/matcher.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dcloud::core {
namespace {

constexpr Micros kCredit = kMicrosPerCredit;

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  }
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

// Small value ranges on purpose: many equal prices, so ties on free cores and worker ids matter.
std::vector<Offer> randomOffers(Rng& rnd, int n) {
  std::vector<Offer> offers;
  for (int i = 0; i < n; ++i) {
    Offer o;
    o.worker_id = "w" + std::to_string(rnd.in(0, 3 * n));  // unsorted, sometimes repeated
    const bool gpu = rnd.in(0, 3) == 0;
    o.capacity = {static_cast<int>(rnd.in(1, 16)), rnd.in(1, 16) * 1024,
                  gpu ? static_cast<int>(rnd.in(1, 4)) : 0, rnd.in(0, 4) * 1000};
    o.free = o.capacity;
    o.free.cores = static_cast<int>(rnd.in(0, o.capacity.cores));
    o.price_core_hour = rnd.in(1, 4) * 100'000;
    o.price_gpu_hour = gpu ? rnd.in(1, 3) * kCredit : 0;
    o.reputation = rnd.in(0, 3) * kCredit;
    if (gpu) {
      static const char* kModels[] = {"NVIDIA A100-SXM4-80GB", "NVIDIA H100", "AMD MI250"};
      o.gpu_model = kModels[rnd.in(0, 2)];
      o.gpu_memory_mb = rnd.in(1, 4) * 16 * 1024;
      o.gpu_throughput = rnd.in(0, 3) * 10'000;
    }
    offers.push_back(o);
  }
  return offers;
}

TaskDemand randomDemand(Rng& rnd) {
  TaskDemand d;
  const bool gpu = rnd.in(0, 4) == 0;
  d.need = {static_cast<int>(rnd.in(0, 6)), rnd.in(0, 6) * 1024,
            gpu ? static_cast<int>(rnd.in(1, 3)) : 0, rnd.in(0, 3) * 1000};
  d.max_price = rnd.in(0, 30) * 100'000 + (gpu ? rnd.in(0, 6) * kCredit : 0);
  d.min_reputation = rnd.in(0, 3) * kCredit;
  if (gpu && rnd.in(0, 1) == 0) {
    static const char* kWanted[] = {"a100", "H100", "mi", "V100"};
    d.gpu_model = kWanted[rnd.in(0, 3)];
  }
  if (gpu && rnd.in(0, 2) == 0) d.gpu_memory_mb = rnd.in(1, 4) * 16 * 1024;
  if (gpu && rnd.in(0, 2) == 0) d.min_gpu_throughput = rnd.in(1, 3) * 10'000;
  return d;
}

// A blocklist of a few of the offers' worker ids, for some demands.
void maybeExclude(Rng& rnd, TaskDemand& d, const std::vector<Offer>& offers) {
  if (rnd.in(0, 3) != 0) return;
  const int n = static_cast<int>(rnd.in(1, 3));
  for (int i = 0; i < n; ++i) {
    d.excluded_workers.push_back(offers[rnd.in(0, static_cast<int>(offers.size()) - 1)].worker_id);
  }
}

class MatcherEquivalenceTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(MatcherEquivalenceTest, SameAnswerAsTheScanWhileBookingAndFreeing) {
  Rng rnd{GetParam()};
  const int n = static_cast<int>(rnd.in(1, 60));
  std::vector<Offer> reference = randomOffers(rnd, n);
  Matcher matcher(reference);
  int booked = 0;
  for (int step = 0; step < 400; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    if (rnd.in(0, 9) == 0) {
      // A task finished somewhere: room comes back.
      const std::size_t i = static_cast<std::size_t>(rnd.in(0, n - 1));
      Resources f = reference[i].capacity;
      f.cores = static_cast<int>(rnd.in(0, f.cores));
      reference[i].free = f;
      matcher.setFree(i, f);
    }
    TaskDemand d = randomDemand(rnd);
    maybeExclude(rnd, d, reference);
    const auto want = pickOffer(d, reference);
    const auto got = matcher.pick(d);
    ASSERT_EQ(want.has_value(), got.has_value());
    if (!want) continue;
    ASSERT_EQ(*got, *want) << reference[*want].worker_id << " vs " << reference[*got].worker_id;
    Resources& f = reference[*want].free;
    f.cores -= d.need.cores;
    f.memory_mb -= d.need.memory_mb;
    f.gpus -= d.need.gpus;
    f.disk_mb -= d.need.disk_mb;
    matcher.book(*got, d.need);
    ++booked;
  }
  for (std::size_t i = 0; i < reference.size(); ++i) {
    EXPECT_EQ(matcher.offers()[i].free.cores, reference[i].free.cores);
    EXPECT_EQ(matcher.offers()[i].free.memory_mb, reference[i].free.memory_mb);
  }
  // A run that never books compares only empty answers.
  EXPECT_GT(booked, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, MatcherEquivalenceTest, ::testing::Range<std::uint64_t>(1, 61));

Offer host(const std::string& id, int gpus, Micros core_price, int cores = 8) {
  Offer o;
  o.worker_id = id;
  o.capacity = {cores, 32 * 1024, gpus, 0};
  o.free = o.capacity;
  o.price_core_hour = core_price;
  o.price_gpu_hour = gpus > 0 ? kCredit : 0;
  return o;
}

TaskDemand cpuTask(int cores, Micros max_price) {
  return {{cores, 1024, 0, 0}, max_price, 0};
}

struct GpuCase {
  const char* name;
  std::vector<Offer> offers;
  TaskDemand demand;
  const char* keep;  // the winner with GPU hosts kept for GPU work
  const char* any;   // the winner when they are not
};

TEST(MatcherGpuHostsTest, CpuWorkAvoidsGpuHostsWhileAnotherFits) {
  Offer busy_cpu = host("cpu", 0, 300'000);
  busy_cpu.free.cores = 0;
  const std::vector<GpuCase> cases = {
      {"cheaper GPU host loses",
       {host("gpu", 2, 100'000), host("cpu", 0, 300'000)},
       cpuTask(1, kCredit),
       "cpu",
       "gpu"},
      {"bid only fits the GPU host",
       {host("gpu", 2, 100'000), host("cpu", 0, 300'000)},
       cpuTask(1, 200'000),
       "gpu",
       "gpu"},
      {"GPU-less host full",
       {host("gpu", 2, 500'000), busy_cpu},
       cpuTask(1, kCredit),
       "gpu",
       "gpu"},
      {"GPU-less host too small",
       {host("gpu", 2, 500'000), host("cpu", 0, 1, 2)},
       cpuTask(4, 10 * kCredit),
       "gpu",
       "gpu"},
      {"GPU task never on a GPU-less host",
       {host("cpu", 0, 1), host("gpu", 1, 900'000)},
       {{1, 1024, 1, 0}, 10 * kCredit, 0},
       "gpu",
       "gpu"},
      {"GPU task and no GPU host",
       {host("cpu", 0, 1)},
       {{1, 1024, 1, 0}, 10 * kCredit, 0},
       "none",
       "none"},
      {"only GPU hosts",
       {host("g1", 1, 200'000), host("g2", 4, 100'000)},
       cpuTask(2, kCredit),
       "g2",
       "g2"},
  };
  for (const GpuCase& c : cases) {
    SCOPED_TRACE(c.name);
    for (bool keep : {true, false}) {
      Matcher m(c.offers, keep);
      auto i = m.pick(c.demand);
      EXPECT_EQ(i ? m.offers()[*i].worker_id : "none", keep ? c.keep : c.any);
    }
    // The scan applies the same rule.
    auto i = pickOffer(c.demand, c.offers);
    EXPECT_EQ(i ? c.offers[*i].worker_id : "none", c.keep);
  }
}

TEST(MatcherTest, GpuQualitiesAndBlocklistsAreHonoured) {
  Offer a100 = host("a100", 2, 100'000);
  a100.gpu_model = "NVIDIA A100-SXM4-80GB";
  a100.gpu_memory_mb = 80 * 1024;
  a100.gpu_throughput = 19'000;
  Offer t4 = host("t4", 2, 50'000);
  t4.gpu_model = "Tesla T4";
  t4.gpu_memory_mb = 16 * 1024;
  t4.gpu_throughput = 8'000;
  const std::vector<Offer> offers = {a100, t4};
  struct Case {
    const char* name;
    TaskDemand demand;
    const char* want;
  };
  TaskDemand gpu{{1, 1024, 1, 0}, 10 * kCredit, 0};
  auto with = [&](auto change) {
    TaskDemand d = gpu;
    change(d);
    return d;
  };
  const std::vector<Case> cases = {
      {"cheapest GPU host", gpu, "t4"},
      {"model substring, any case", with([](TaskDemand& d) { d.gpu_model = "a100"; }), "a100"},
      {"unknown model", with([](TaskDemand& d) { d.gpu_model = "V100"; }), "none"},
      {"memory per GPU", with([](TaskDemand& d) { d.gpu_memory_mb = 40 * 1024; }), "a100"},
      {"throughput", with([](TaskDemand& d) { d.min_gpu_throughput = 10'000; }), "a100"},
      {"blocklisted cheapest", with([](TaskDemand& d) { d.excluded_workers = {"t4"}; }), "a100"},
      {"everything blocklisted", with([](TaskDemand& d) {
         d.excluded_workers = {"t4", "a100"};
       }),
       "none"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Matcher m(offers);
    auto i = m.pick(c.demand);
    EXPECT_EQ(i ? offers[*i].worker_id : "none", c.want);
    auto j = pickOffer(c.demand, offers);
    EXPECT_EQ(j ? offers[*j].worker_id : "none", c.want);
  }
}

TEST(MatcherTest, ABlocklistDoesNotHideOffersFromOtherJobs) {
  // Same demand shape, one job excluding the best offer: the next job must still get it (the
  // per-demand cursor must not skip what only the first job excluded).
  Matcher m({host("a", 0, 100'000), host("b", 0, 200'000)});
  TaskDemand excluded = cpuTask(1, kCredit);
  excluded.excluded_workers = {"a"};
  auto first = m.pick(excluded);
  ASSERT_TRUE(first);
  EXPECT_EQ(m.offers()[*first].worker_id, "b");
  auto second = m.pick(cpuTask(1, kCredit));
  ASSERT_TRUE(second);
  EXPECT_EQ(m.offers()[*second].worker_id, "a");
}

TEST(MatcherTest, NegativeNeedsFitNothing) {
  std::vector<Offer> offers = {host("w", 0, 1)};
  Matcher m(offers);
  for (const Resources& r : {Resources{-1, 0, 0, 0}, Resources{1, -1, 0, 0}, Resources{1, 0, -1, 0},
                             Resources{1, 0, 0, -1}}) {
    EXPECT_FALSE(m.pick({r, kCredit, 0}));
    EXPECT_FALSE(pickOffer({r, kCredit, 0}, offers));
  }
}

TEST(MatcherTest, ShapesThatRankAlikeShareAnIndex) {
  Matcher m({host("a", 2, 100'000), host("b", 0, 200'000)});
  EXPECT_TRUE(m.pick(cpuTask(1, kCredit)));
  EXPECT_TRUE(m.pick(cpuTask(4, kCredit)));
  EXPECT_EQ(m.indexCount(), 1u);  // every CPU-only shape ranks by core price
  EXPECT_TRUE(m.pick({{2, 1024, 1, 0}, 10 * kCredit, 0}));
  EXPECT_TRUE(m.pick({{4, 1024, 2, 0}, 10 * kCredit, 0}));
  EXPECT_EQ(m.indexCount(), 2u);  // 2:1 and 4:2 are one shape on GPU hosts
  EXPECT_TRUE(m.pick({{1, 1024, 2, 0}, 10 * kCredit, 0}));
  EXPECT_EQ(m.indexCount(), 3u);
}

TEST(MatcherTest, FreedRoomIsFoundAgain) {
  Matcher m({host("w", 0, 100'000, 2)});
  ASSERT_TRUE(m.pick(cpuTask(2, kCredit)));
  m.book(0, {2, 1024, 0, 0});
  EXPECT_FALSE(m.pick(cpuTask(2, kCredit)));
  m.setFree(0, m.offers()[0].capacity);
  EXPECT_TRUE(m.pick(cpuTask(2, kCredit)));
}

TEST(MatcherTest, PlanningTwiceOnOneMatcherKeepsBookings) {
  Matcher m({host("w", 0, 100'000, 3)});
  std::vector<QueuedTask> queue = {{"t1", "o", cpuTask(2, kCredit)}};
  EXPECT_EQ(planBookings(queue, m).size(), 1u);
  EXPECT_TRUE(planBookings(queue, m).empty());  // one core left
  EXPECT_EQ(m.takeOffers()[0].free.cores, 1);
}

}  // namespace
}  // namespace dcloud::core
