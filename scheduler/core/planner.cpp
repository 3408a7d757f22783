// planBookings over a Matcher: who books next (weighted dominant resource fairness between
// owners, priority with ageing within an owner, per-owner limits) and where (the matcher).
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "scheduler/core/matcher.h"

namespace dcloud::core {
namespace {

constexpr std::size_t kDims = 4;  // cores, memory, gpus, disk
using Amounts = std::array<double, kDims>;

Amounts amounts(const Resources& r) {
  return {static_cast<double>(r.cores), static_cast<double>(r.memory_mb),
          static_cast<double>(r.gpus), static_cast<double>(r.disk_mb)};
}

struct OwnerQueue {
  std::vector<std::uint32_t> tasks;  // indexes into the queue, in booking order
  std::size_t next = 0;
  double weight = 1;
  Amounts used{};
  int running = 0;
  int limit = 0;  // 0: none
  std::uint32_t first_seen = 0;
};

// The owner's largest fraction of any resource the cluster has, divided by its weight.
double dominantShare(const OwnerQueue& o, const Amounts& total) {
  double share = 0;
  for (std::size_t d = 0; d < kDims; ++d) {
    if (total[d] > 0) share = std::max(share, o.used[d] / total[d]);
  }
  return share / o.weight;
}

std::int64_t effectivePriority(const QueuedTask& t, const PlanOptions& options) {
  std::int64_t boost = 0;
  if (options.ageing_step_ms > 0 && options.now_ms > t.enqueued_at_ms) {
    boost = (options.now_ms - t.enqueued_at_ms) / options.ageing_step_ms;
  }
  return t.priority + boost;
}

// Demands that found no offer this round; free resources only shrink while planning, so a
// demand that failed once fails again. Tasks of one job share a demand, so a job that does not
// fit costs one search, not one per task.
struct DemandKey {
  std::int64_t memory_mb, disk_mb;
  Micros max_price, min_reputation;
  std::int64_t gpu_memory_mb, min_gpu_throughput;
  std::string gpu_model;
  int cores, gpus;
  bool operator==(const DemandKey&) const = default;
};
struct DemandKeyHash {
  std::size_t operator()(const DemandKey& k) const {
    std::size_t h = 0;
    for (std::int64_t v :
         {static_cast<std::int64_t>(k.cores), static_cast<std::int64_t>(k.gpus), k.memory_mb,
          k.disk_mb, k.max_price, k.min_reputation, k.gpu_memory_mb, k.min_gpu_throughput}) {
      h = (h ^ std::hash<std::int64_t>{}(v)) * 0x100000001b3ULL;
    }
    if (!k.gpu_model.empty()) h ^= std::hash<std::string>{}(k.gpu_model);
    return h;
  }
};
DemandKey keyOf(const TaskDemand& d) {
  return {d.need.memory_mb,     d.need.disk_mb, d.max_price,  d.min_reputation, d.gpu_memory_mb,
          d.min_gpu_throughput, d.gpu_model,    d.need.cores, d.need.gpus};
}

std::vector<OwnerQueue> groupByOwner(const std::vector<QueuedTask>& queue,
                                     const PlanOptions& options) {
  std::vector<OwnerQueue> owners;
  std::vector<std::string_view> names;
  std::unordered_map<std::string_view, std::uint32_t> index_of;
  for (std::uint32_t i = 0; i < queue.size(); ++i) {
    auto [it, inserted] =
        index_of.emplace(queue[i].owner, static_cast<std::uint32_t>(owners.size()));
    if (inserted) {
      owners.emplace_back().first_seen = it->second;
      names.push_back(queue[i].owner);
    }
    owners[it->second].tasks.push_back(i);
  }
  std::vector<std::int64_t> rank(queue.size());
  for (std::size_t i = 0; i < queue.size(); ++i) rank[i] = effectivePriority(queue[i], options);
  for (std::size_t k = 0; k < owners.size(); ++k) {
    OwnerQueue& o = owners[k];
    const std::string name(names[k]);
    if (auto w = options.owner_weights.find(name); w != options.owner_weights.end()) {
      // A weight that is not a positive number would divide by zero or invert the order.
      if (std::isfinite(w->second) && w->second > 0) o.weight = w->second;
    }
    if (auto u = options.owner_usage.find(name); u != options.owner_usage.end()) {
      o.used = amounts(u->second);
    }
    if (auto r = options.owner_running.find(name); r != options.owner_running.end()) {
      o.running = r->second;
    }
    auto l = options.owner_limits.find(name);
    o.limit = l != options.owner_limits.end() ? l->second : options.default_owner_limit;
    // Higher effective priority first; stable, so equal ranks keep the queue's order.
    auto higher = [&](std::uint32_t a, std::uint32_t b) { return rank[a] > rank[b]; };
    if (!std::is_sorted(o.tasks.begin(), o.tasks.end(), higher)) {
      std::stable_sort(o.tasks.begin(), o.tasks.end(), higher);
    }
  }
  return owners;
}

}  // namespace

std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue, Matcher& matcher,
                                  const PlanOptions& options) {
  std::vector<Booking> out;
  if (queue.empty() || matcher.offers().empty()) return out;
  std::vector<OwnerQueue> owners = groupByOwner(queue, options);
  Amounts total{};
  for (const Offer& o : matcher.offers()) {
    const Amounts a = amounts(o.capacity);
    for (std::size_t d = 0; d < kDims; ++d) total[d] += std::max(0.0, a[d]);
  }
  // Smallest share first; equal shares go to the owner seen first, which makes equal owners with
  // equal tasks take strict turns.
  using Turn = std::pair<double, std::uint32_t>;
  std::priority_queue<Turn, std::vector<Turn>, std::greater<>> turns;
  for (const OwnerQueue& o : owners) turns.emplace(dominantShare(o, total), o.first_seen);
  std::unordered_set<DemandKey, DemandKeyHash> unplaceable;

  while (!turns.empty()) {
    OwnerQueue& owner = owners[turns.top().second];
    turns.pop();
    if (owner.limit > 0 && owner.running >= owner.limit) continue;
    while (owner.next < owner.tasks.size()) {
      const QueuedTask& t = queue[owner.tasks[owner.next++]];
      if (t.replicas > 0) {
        // Backups are rare and placed by a scan over distinct providers.
        auto picks = placeReplicas(t.demand, t.replicas, matcher.offers());
        if (picks.empty()) continue;
        for (std::size_t i : picks) {
          matcher.book(i, {0, 0, 0, t.demand.need.disk_mb});
          const Offer& o = matcher.offers()[i];
          out.push_back({t.task_id, o.worker_id, o.price_disk_gb_month, true});
        }
      } else {
        // A blocklist makes a demand particular to its job: it reads the memo of demands that fit
        // nowhere (fewer offers cannot fit more) but never fills it.
        const DemandKey key = keyOf(t.demand);
        if (!unplaceable.empty() && unplaceable.count(key)) continue;
        auto pick = matcher.pick(t.demand);
        if (!pick) {
          if (t.demand.excluded_workers.empty()) unplaceable.insert(key);
          continue;
        }
        matcher.book(*pick, t.demand.need);
        const Offer& o = matcher.offers()[*pick];
        out.push_back({t.task_id, o.worker_id, hourlyPrice(o, t.demand.need)});
      }
      const Amounts a = amounts(t.demand.need);
      for (std::size_t d = 0; d < kDims; ++d) owner.used[d] += a[d];
      ++owner.running;
      if (owner.next < owner.tasks.size()) {
        turns.emplace(dominantShare(owner, total), owner.first_seen);
      }
      break;
    }
  }
  return out;
}

}  // namespace dcloud::core
