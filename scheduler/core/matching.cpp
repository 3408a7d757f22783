#include "scheduler/core/matching.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
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

bool modelMatches(const std::string& model, const std::string& wanted) {
  if (wanted.empty()) return true;
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  auto it = std::search(model.begin(), model.end(), wanted.begin(), wanted.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != model.end();
}

bool gpuQualifies(const Offer& o, const TaskDemand& d) {
  if (d.need.gpus <= 0) return true;
  return o.gpu_memory_mb >= d.gpu_memory_mb && o.gpu_throughput >= d.min_gpu_throughput &&
         modelMatches(o.gpu_model, d.gpu_model);
}

bool excluded(const Offer& o, const TaskDemand& d) {
  for (const auto& w : d.excluded_workers) {
    if (w == o.worker_id) return true;
  }
  return false;
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
    if (!gpuQualifies(o, demand) || excluded(o, demand)) continue;
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
    if (!gpuQualifies(o, demand) || excluded(o, demand)) continue;
    if (demand.need.gpus > 0 && !isGpuHost(o)) continue;
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

std::string explainUnplaceable(const TaskDemand& demand, const std::vector<Offer>& offers) {
  const Resources& n = demand.need;
  if (offers.empty()) return "no worker is registered and alive";
  Resources most{0, 0, 0, 0};
  bool any_resources = false, any_gpu_kind = false;
  for (const Offer& o : offers) {
    most.cores = std::max(most.cores, o.capacity.cores);
    most.memory_mb = std::max(most.memory_mb, o.capacity.memory_mb);
    most.gpus = std::max(most.gpus, o.capacity.gpus);
    most.disk_mb = std::max(most.disk_mb, o.capacity.disk_mb);
    if (!fits(o.capacity, n)) continue;
    any_resources = true;
    if (!gpuQualifies(o, demand)) continue;
    any_gpu_kind = true;
    if (o.reputation >= demand.min_reputation) return "";
  }
  auto has = [](const char* what, std::int64_t want, std::int64_t top) {
    return std::string("no alive worker has ") + std::to_string(want) + " " + what +
           " (the most: " + std::to_string(top) + ")";
  };
  if (n.gpus > most.gpus) return has("GPU(s)", n.gpus, most.gpus);
  if (n.cores > most.cores) return has("cores", n.cores, most.cores);
  if (n.memory_mb > most.memory_mb) return has("MB of memory", n.memory_mb, most.memory_mb);
  if (n.disk_mb > most.disk_mb) return has("MB of disk", n.disk_mb, most.disk_mb);
  if (!any_resources) return "no single alive worker has all the resources together";
  if (!any_gpu_kind) {
    return "no alive worker with enough GPUs has the GPU model, memory or throughput asked for";
  }
  return "no alive worker has the reputation asked for";
}

bool onlyBlocklistedFit(const TaskDemand& demand, const std::vector<Offer>& offers) {
  if (demand.excluded_workers.empty()) return false;
  if (checkPlaceable(demand, offers).kind == Placeability::Kind::kPlaceable) return false;
  TaskDemand unblocked = demand;
  unblocked.excluded_workers.clear();
  return checkPlaceable(unblocked, offers).kind == Placeability::Kind::kPlaceable;
}

namespace {

// Per provider its best offer for the replica; then the cheapest providers.
template <typename FreeOf>
std::vector<std::size_t> pickReplicas(const TaskDemand& demand, int replicas,
                                      const std::vector<Offer>& offers, FreeOf free_of) {
  std::vector<std::size_t> out;
  if (replicas < 1 || demand.need.disk_mb <= 0) return out;
  auto better = [&](std::size_t a, std::size_t b) {
    const Offer& x = offers[a];
    const Offer& y = offers[b];
    if (x.price_disk_gb_month != y.price_disk_gb_month) {
      return x.price_disk_gb_month < y.price_disk_gb_month;
    }
    if (free_of(x).disk_mb != free_of(y).disk_mb) return free_of(x).disk_mb > free_of(y).disk_mb;
    return x.worker_id < y.worker_id;
  };
  std::map<std::string, std::size_t> best;  // provider -> offer
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const Offer& o = offers[i];
    if (o.price_disk_gb_month <= 0 || o.price_disk_gb_month > demand.max_price) continue;
    if (free_of(o).disk_mb < demand.need.disk_mb || o.reputation < demand.min_reputation) continue;
    if (excluded(o, demand)) continue;
    auto [it, inserted] = best.emplace(o.provider, i);
    if (!inserted && better(i, it->second)) it->second = i;
  }
  if (static_cast<int>(best.size()) < replicas) return out;
  for (const auto& [provider, i] : best) out.push_back(i);
  std::sort(out.begin(), out.end(), better);
  out.resize(static_cast<std::size_t>(replicas));
  return out;
}

}  // namespace

std::vector<std::size_t> placeReplicas(const TaskDemand& demand, int replicas,
                                       const std::vector<Offer>& offers) {
  return pickReplicas(demand, replicas, offers, [](const Offer& o) { return o.free; });
}

Placeability checkReplicasPlaceable(const TaskDemand& demand, int replicas,
                                    const std::vector<Offer>& offers) {
  Placeability out;
  const auto capacity = [](const Offer& o) { return o.capacity; };
  if (!pickReplicas(demand, replicas, offers, capacity).empty()) {
    out.kind = Placeability::Kind::kPlaceable;
    return out;
  }
  // Too low when the bid is all that stands in the way: the price that would place it is the
  // replicas-th cheapest provider's.
  TaskDemand any = demand;
  any.max_price = std::numeric_limits<Micros>::max();
  auto at_any = pickReplicas(any, replicas, offers, capacity);
  if (!at_any.empty()) {
    out.kind = Placeability::Kind::kTooLow;
    out.acceptable_price = offers[at_any.back()].price_disk_gb_month;
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
