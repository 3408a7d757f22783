// planPreemptions: which preemptible lower-priority running tasks make room for waiting ones.
#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>

#include "scheduler/core/matching.h"

namespace dcloud::core {
namespace {

void add(Resources& to, const Resources& r, int sign) {
  to.cores += sign * r.cores;
  to.memory_mb += sign * r.memory_mb;
  to.gpus += sign * r.gpus;
  to.disk_mb += sign * r.disk_mb;
}

struct Choice {
  std::size_t offer = 0;
  std::vector<std::size_t> victims;  // indexes into running
  Micros price = 0;
};

}  // namespace

std::vector<Preemption> planPreemptions(const std::vector<QueuedTask>& waiting,
                                        const std::vector<RunningTask>& running,
                                        std::vector<Offer>& offers, std::size_t max_preemptions) {
  std::vector<Preemption> out;
  if (waiting.empty() || running.empty()) return out;
  int lowest = running.front().priority;
  bool any_preemptible = false;
  for (const RunningTask& r : running) {
    if (!r.preemptible) continue;
    any_preemptible = true;
    lowest = std::min(lowest, r.priority);
  }
  if (!any_preemptible) return out;
  // Per worker its preemptible candidates, lowest priority first, then largest (fewest victims).
  std::map<std::string, std::size_t> offer_of;
  for (std::size_t i = 0; i < offers.size(); ++i) offer_of.emplace(offers[i].worker_id, i);
  std::map<std::size_t, std::vector<std::size_t>> on_offer;
  for (std::size_t i = 0; i < running.size(); ++i) {
    if (!running[i].preemptible) continue;
    auto it = offer_of.find(running[i].worker_id);
    if (it != offer_of.end()) on_offer[it->second].push_back(i);
  }
  for (auto& [offer, list] : on_offer) {
    std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
      if (running[a].priority != running[b].priority) {
        return running[a].priority < running[b].priority;
      }
      return running[a].need.cores + running[a].need.gpus >
             running[b].need.cores + running[b].need.gpus;
    });
  }
  std::vector<bool> taken(running.size(), false);
  for (const QueuedTask& t : waiting) {
    if (out.size() >= max_preemptions) break;
    if (t.replicas > 0 || t.priority <= lowest) continue;
    const TaskDemand& d = t.demand;
    std::optional<Choice> best;
    for (const auto& [i, list] : on_offer) {
      const Offer& o = offers[i];
      if (o.reputation < d.min_reputation || !gpuQualifies(o, d) || excluded(o, d)) continue;
      if (d.need.gpus > 0 && !isGpuHost(o)) continue;
      if (!fits(o.capacity, d.need)) continue;
      const Micros price = hourlyPrice(o, d.need);
      if (price > d.max_price) continue;
      Choice c{i, {}, price};
      Resources room = o.free;
      for (std::size_t v : list) {
        if (fits(room, d.need)) break;
        if (taken[v] || running[v].priority >= t.priority) continue;
        add(room, running[v].need, +1);
        c.victims.push_back(v);
      }
      // Room already free means planBookings would have booked it (or a rule it applies, such
      // as keeping GPU hosts, said no): preemption only ever replaces running work.
      if (!fits(room, d.need) || c.victims.empty()) continue;
      const bool better =
          !best || c.victims.size() < best->victims.size() ||
          (c.victims.size() == best->victims.size() &&
           (c.price < best->price ||
            (c.price == best->price && o.worker_id < offers[best->offer].worker_id)));
      if (better) best = std::move(c);
    }
    if (!best) continue;
    Offer& o = offers[best->offer];
    Preemption p;
    for (std::size_t v : best->victims) {
      taken[v] = true;
      add(o.free, running[v].need, +1);
      p.victims.push_back(running[v].task_id);
    }
    add(o.free, d.need, -1);
    p.booking = {t.task_id, o.worker_id, best->price};
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace dcloud::core
