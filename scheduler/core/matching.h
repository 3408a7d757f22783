#pragma once
// Matching tasks to offers. A task fits an offer when the offer's free resources cover the task's
// needs, the provider's reputation is at least the job's minimum, and the offer's price for those
// resources is at most the job's bid. Among fitting offers the cheapest wins; ties go to the offer
// with more free cores (spreading load), then to the lower worker id (determinism). Owners take
// turns (round robin) so one owner's big job cannot starve everyone else. Pure: no I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "scheduler/core/job_spec.h"

namespace dcloud::core {

struct Offer {
  std::string worker_id;
  std::string provider;
  Resources capacity;
  Resources free;
  Micros price_core_hour = 0;
  Micros price_gpu_hour = 0;
  Micros reputation = 0;
};

struct TaskDemand {
  Resources need;
  Micros max_price = 0;
  Micros min_reputation = 0;
};

// The hourly price of `need` on this offer: cores * core price + gpus * gpu price.
Micros hourlyPrice(const Offer& offer, const Resources& need);
bool fits(const Resources& have, const Resources& need);

// The best offer for one task among those with enough free resources, or nullopt.
std::optional<std::size_t> pickOffer(const TaskDemand& demand, const std::vector<Offer>& offers);

// Whether a job could be placed at all by the offers known now, judged on their whole capacity:
// kPlaceable; kTooLow when offers fit but all cost more than the bid (acceptable_price is the
// lowest price among them); kNoOffer when no offer fits resources and reputation (the job waits
// for new workers).
struct Placeability {
  enum class Kind { kPlaceable, kTooLow, kNoOffer };
  Kind kind = Kind::kNoOffer;
  Micros acceptable_price = 0;
};
Placeability checkPlaceable(const TaskDemand& demand, const std::vector<Offer>& offers);

struct QueuedTask {
  std::string task_id;
  std::string owner;
  TaskDemand demand;
};

struct Booking {
  std::string task_id;
  std::string worker_id;
  Micros price = 0;  // hourly, agreed now
};

// Books as many queued tasks as the offers' free resources allow. `queue` lists each owner's
// tasks in that owner's order; owners take turns. offers[i].free is reduced by each booking.
std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue, std::vector<Offer>& offers);

}  // namespace dcloud::core
