#include "scheduler/core/matcher.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

namespace dcloud::core {
namespace {

constexpr std::uint64_t shapeKey(std::int64_t cores, std::int64_t gpus, bool gpu_hosts) {
  return (static_cast<std::uint64_t>(cores) << 33) | (static_cast<std::uint64_t>(gpus) << 1) |
         (gpu_hosts ? 1u : 0u);
}

}  // namespace

std::size_t Matcher::CursorKeyHash::operator()(const CursorKey& k) const {
  std::size_t h = k.gpu_hosts ? 1 : 0;
  for (std::int64_t v :
       {static_cast<std::int64_t>(k.cores), static_cast<std::int64_t>(k.gpus), k.memory_mb,
        k.disk_mb, k.min_reputation, k.gpu_memory_mb, k.min_gpu_throughput}) {
    h = (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ULL;
  }
  if (!k.gpu_model.empty()) h ^= std::hash<std::string>{}(k.gpu_model);
  return h ^ (h >> 29);
}

namespace {

bool negative(const Resources& r) {
  return r.cores < 0 || r.memory_mb < 0 || r.gpus < 0 || r.disk_mb < 0;
}

}  // namespace

Matcher::Matcher(std::vector<Offer> offers, bool keep_gpu_hosts_free)
    : offers_(std::move(offers)), keep_gpu_hosts_free_(keep_gpu_hosts_free) {
  for (const Offer& o : offers_) (isGpuHost(o) ? has_gpu_hosts_ : has_cpu_hosts_) = true;
}

Matcher::Max Matcher::leafOf(const Offer& o) const {
  return {o.free.memory_mb, o.free.disk_mb, o.reputation, o.gpu_memory_mb,
          o.gpu_throughput, o.free.cores,   o.free.gpus};
}

Matcher::Index& Matcher::indexFor(std::int64_t cores, std::int64_t gpus, bool gpu_hosts) {
  // Shapes that are multiples of one another rank offers alike, so they share an index.
  std::int64_t unit = std::gcd(cores, gpus);
  if (unit == 0) unit = 1;
  const std::uint64_t key = shapeKey(cores / unit, gpus / unit, gpu_hosts);
  auto it = index_of_.find(key);
  if (it != index_of_.end()) return indexes_[it->second];
  index_of_.emplace(key, indexes_.size());
  Index& index = indexes_.emplace_back();
  index.unit_cores = cores / unit;
  index.unit_gpus = gpus / unit;
  index.gpu_hosts = gpu_hosts;
  buildIndex(index);
  return index;
}

void Matcher::buildIndex(Index& index) {
  for (std::uint32_t i = 0; i < offers_.size(); ++i) {
    if (isGpuHost(offers_[i]) == index.gpu_hosts) index.order.push_back(i);
  }
  auto unitPrice = [&](std::uint32_t i) {
    return offers_[i].price_core_hour * index.unit_cores +
           offers_[i].price_gpu_hour * index.unit_gpus;
  };
  std::sort(index.order.begin(), index.order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Micros pa = unitPrice(a), pb = unitPrice(b);
    if (pa != pb) return pa < pb;
    if (offers_[a].worker_id != offers_[b].worker_id) {
      return offers_[a].worker_id < offers_[b].worker_id;
    }
    return a < b;
  });
  const std::size_t n = index.order.size();
  index.unit_price.resize(n);
  index.position.assign(offers_.size(), 0);
  while (index.leaves < n) index.leaves *= 2;
  const Max none{-1, -1, std::numeric_limits<Micros>::min(), -1, -1, -1, -1};
  index.tree.assign(2 * index.leaves, none);
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint32_t i = index.order[p];
    index.unit_price[p] = unitPrice(i);
    index.position[i] = static_cast<std::uint32_t>(p);
    index.tree[index.leaves + p] = leafOf(offers_[i]);
  }
  for (std::size_t node = index.leaves - 1; node >= 1; --node) {
    index.tree[node] = combine(index.tree[2 * node], index.tree[2 * node + 1]);
  }
}

Matcher::Max Matcher::combine(const Max& a, const Max& b) {
  return {std::max(a.memory_mb, b.memory_mb),
          std::max(a.disk_mb, b.disk_mb),
          std::max(a.reputation, b.reputation),
          std::max(a.gpu_memory_mb, b.gpu_memory_mb),
          std::max(a.gpu_throughput, b.gpu_throughput),
          std::max(a.cores, b.cores),
          std::max(a.gpus, b.gpus)};
}

void Matcher::descend(Search& s, std::size_t node, std::size_t lo, std::size_t hi) const {
  if (lo >= s.limit || hi <= s.from) return;
  const Max& m = s.index->tree[node];
  const Resources& need = s.demand->need;
  if (m.cores < need.cores || m.memory_mb < need.memory_mb || m.gpus < need.gpus ||
      m.disk_mb < need.disk_mb || m.reputation < s.demand->min_reputation) {
    return;
  }
  if (need.gpus > 0 && (m.gpu_memory_mb < s.demand->gpu_memory_mb ||
                        m.gpu_throughput < s.demand->min_gpu_throughput)) {
    return;
  }
  // Left to right, so nothing here is cheaper than the best so far: it can only win a tie on
  // price by having more free cores (a lower worker id sits further left).
  if (s.best && (s.index->unit_price[lo] > s.best_unit_price || m.cores <= s.best_cores)) return;
  if (hi - lo == 1) {
    // Qualities no maximum summarises: checked per offer, only on candidates that fit.
    const Offer& o = offers_[s.index->order[lo]];
    if (!modelMatches(o.gpu_model, need.gpus > 0 ? s.demand->gpu_model : std::string()) ||
        excluded(o, *s.demand)) {
      return;
    }
    s.best = lo;
    s.best_unit_price = s.index->unit_price[lo];
    s.best_cores = m.cores;
    return;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  descend(s, 2 * node, lo, mid);
  descend(s, 2 * node + 1, mid, hi);
}

std::optional<Matcher::Candidate> Matcher::bestIn(const TaskDemand& demand, bool gpu_hosts) {
  if (!(gpu_hosts ? has_gpu_hosts_ : has_cpu_hosts_)) return std::nullopt;
  const Index& index = indexFor(demand.need.cores, demand.need.gpus, gpu_hosts);
  std::int64_t unit = std::gcd(static_cast<std::int64_t>(demand.need.cores),
                               static_cast<std::int64_t>(demand.need.gpus));
  if (unit == 0) unit = 1;
  // The bid as a prefix of the price order.
  const auto end = std::partition_point(index.unit_price.begin(), index.unit_price.end(),
                                        [&](Micros p) { return p * unit <= demand.max_price; });
  const std::size_t limit = static_cast<std::size_t>(end - index.unit_price.begin());
  // Offers before the cursor did not fit this demand last time, and free resources have only
  // shrunk since, so the search starts there: a job's tasks skip the full offers once, not once
  // per task.
  const bool gpu = demand.need.gpus > 0;
  CursorKey key{demand.need.memory_mb,
                demand.need.disk_mb,
                demand.min_reputation,
                gpu ? demand.gpu_memory_mb : 0,
                gpu ? demand.min_gpu_throughput : 0,
                gpu ? demand.gpu_model : std::string(),
                demand.need.cores,
                demand.need.gpus,
                gpu_hosts};
  auto [cursor, inserted] = cursor_.try_emplace(std::move(key), 0);
  const bool moves_cursor = demand.excluded_workers.empty();
  Search s{&index, &demand, cursor->second, limit, std::nullopt, 0, 0};
  if (s.from < s.limit) descend(s, 1, 0, index.leaves);
  if (!s.best) {
    if (moves_cursor) {
      cursor->second = static_cast<std::uint32_t>(std::max<std::size_t>(s.from, s.limit));
    }
    return std::nullopt;
  }
  // Everything cheaper than the winner did not fit; its equals may win a later tie.
  if (moves_cursor) {
    cursor->second = static_cast<std::uint32_t>(
        std::lower_bound(index.unit_price.begin(), index.unit_price.end(), s.best_unit_price) -
        index.unit_price.begin());
  }
  return Candidate{index.order[*s.best], s.best_unit_price * unit};
}

std::optional<std::size_t> Matcher::pick(const TaskDemand& demand) {
  if (negative(demand.need)) return std::nullopt;
  if (demand.need.gpus > 0) {
    auto c = bestIn(demand, true);
    return c ? std::optional<std::size_t>(c->offer) : std::nullopt;
  }
  auto cpu = bestIn(demand, false);
  if (cpu && keep_gpu_hosts_free_) return cpu->offer;
  auto gpu = bestIn(demand, true);
  if (!cpu || !gpu) {
    if (cpu) return cpu->offer;
    return gpu ? std::optional<std::size_t>(gpu->offer) : std::nullopt;
  }
  const Offer& a = offers_[cpu->offer];
  const Offer& b = offers_[gpu->offer];
  const bool gpu_better =
      gpu->price < cpu->price ||
      (gpu->price == cpu->price && (b.free.cores > a.free.cores ||
                                    (b.free.cores == a.free.cores && b.worker_id < a.worker_id)));
  return gpu_better ? gpu->offer : cpu->offer;
}

void Matcher::refresh(std::size_t i) {
  const bool gpu_host = isGpuHost(offers_[i]);
  const Max leaf = leafOf(offers_[i]);
  for (Index& index : indexes_) {
    if (index.gpu_hosts != gpu_host) continue;
    std::size_t node = index.leaves + index.position[i];
    index.tree[node] = leaf;
    for (node /= 2; node >= 1; node /= 2) {
      index.tree[node] = combine(index.tree[2 * node], index.tree[2 * node + 1]);
    }
  }
}

void Matcher::book(std::size_t i, const Resources& need) {
  Resources& f = offers_[i].free;
  f.cores -= need.cores;
  f.memory_mb -= need.memory_mb;
  f.gpus -= need.gpus;
  f.disk_mb -= need.disk_mb;
  refresh(i);
}

void Matcher::setFree(std::size_t i, const Resources& free) {
  const Resources& old = offers_[i].free;
  // More room anywhere can make an offer behind a cursor fit again.
  if (free.cores > old.cores || free.memory_mb > old.memory_mb || free.gpus > old.gpus ||
      free.disk_mb > old.disk_mb) {
    cursor_.clear();
  }
  offers_[i].free = free;
  refresh(i);
}

std::vector<Offer> Matcher::takeOffers() {
  indexes_.clear();
  index_of_.clear();
  cursor_.clear();
  has_cpu_hosts_ = has_gpu_hosts_ = false;
  return std::move(offers_);
}

}  // namespace dcloud::core
