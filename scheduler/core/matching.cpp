#include "scheduler/core/matching.h"

#include <deque>
#include <limits>
#include <map>

namespace dcloud::core {

Micros hourlyPrice(const Offer& offer, const Resources& need) {
  return offer.price_core_hour * need.cores + offer.price_gpu_hour * need.gpus;
}

bool fits(const Resources& have, const Resources& need) {
  return have.cores >= need.cores && have.memory_mb >= need.memory_mb && have.gpus >= need.gpus &&
         have.disk_mb >= need.disk_mb;
}

std::optional<std::size_t> pickOffer(const TaskDemand& demand, const std::vector<Offer>& offers) {
  std::optional<std::size_t> best;
  Micros best_price = 0;
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const Offer& o = offers[i];
    if (!fits(o.free, demand.need) || o.reputation < demand.min_reputation) continue;
    const Micros price = hourlyPrice(o, demand.need);
    if (price > demand.max_price) continue;
    if (!best) {
      best = i;
      best_price = price;
      continue;
    }
    const Offer& b = offers[*best];
    const bool better =
        price < best_price ||
        (price == best_price && (o.free.cores > b.free.cores ||
                                 (o.free.cores == b.free.cores && o.worker_id < b.worker_id)));
    if (better) {
      best = i;
      best_price = price;
    }
  }
  return best;
}

Placeability checkPlaceable(const TaskDemand& demand, const std::vector<Offer>& offers) {
  Placeability out;
  Micros lowest = std::numeric_limits<Micros>::max();
  for (const Offer& o : offers) {
    if (!fits(o.capacity, demand.need) || o.reputation < demand.min_reputation) continue;
    const Micros price = hourlyPrice(o, demand.need);
    if (price <= demand.max_price) {
      out.kind = Placeability::Kind::kPlaceable;
      return out;
    }
    lowest = std::min(lowest, price);
  }
  if (lowest != std::numeric_limits<Micros>::max()) {
    out.kind = Placeability::Kind::kTooLow;
    out.acceptable_price = lowest;
  }
  return out;
}

std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue,
                                  std::vector<Offer>& offers) {
  // Per-owner queues in first-seen owner order, then round robin.
  std::vector<std::deque<const QueuedTask*>> per_owner;
  std::map<std::string, std::size_t> owner_index;
  for (const QueuedTask& t : queue) {
    auto [it, inserted] = owner_index.emplace(t.owner, per_owner.size());
    if (inserted) per_owner.emplace_back();
    per_owner[it->second].push_back(&t);
  }
  std::vector<Booking> out;
  bool progressed = true;
  while (progressed) {
    progressed = false;
    for (auto& tasks : per_owner) {
      // Each owner gets one booking per round; a task that fits nowhere is skipped for this plan
      // rather than blocking the owner's later tasks.
      while (!tasks.empty()) {
        const QueuedTask* t = tasks.front();
        tasks.pop_front();
        auto pick = pickOffer(t->demand, offers);
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

}  // namespace dcloud::core
