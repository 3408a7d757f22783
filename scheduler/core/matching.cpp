#include "scheduler/core/matching.h"

#include <limits>
#include <utility>

#include "scheduler/core/matcher.h"

namespace dcloud::core {

Micros hourlyPrice(const Offer& offer, const Resources& need) {
  return offer.price_core_hour * need.cores + offer.price_gpu_hour * need.gpus;
}

bool fits(const Resources& have, const Resources& need) {
  return have.cores >= need.cores && have.memory_mb >= need.memory_mb && have.gpus >= need.gpus &&
         have.disk_mb >= need.disk_mb;
}

namespace {

// The best offer among those `eligible` admits, or nullopt.
template <typename Eligible>
std::optional<std::size_t> bestOffer(const TaskDemand& demand, const std::vector<Offer>& offers,
                                     Eligible eligible) {
  std::optional<std::size_t> best;
  Micros best_price = 0;
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const Offer& o = offers[i];
    if (!eligible(o)) continue;
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

}  // namespace

std::optional<std::size_t> pickOffer(const TaskDemand& demand, const std::vector<Offer>& offers) {
  const Resources& n = demand.need;
  if (n.cores < 0 || n.memory_mb < 0 || n.gpus < 0 || n.disk_mb < 0) return std::nullopt;
  if (n.gpus > 0) return bestOffer(demand, offers, [](const Offer& o) { return isGpuHost(o); });
  auto cpu = bestOffer(demand, offers, [](const Offer& o) { return !isGpuHost(o); });
  if (cpu) return cpu;
  return bestOffer(demand, offers, [](const Offer& o) { return isGpuHost(o); });
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

std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue, std::vector<Offer>& offers,
                                  const PlanOptions& options) {
  Matcher matcher(std::move(offers), options.keep_gpu_hosts_free);
  std::vector<Booking> out = planBookings(queue, matcher, options);
  offers = matcher.takeOffers();
  return out;
}

}  // namespace dcloud::core
