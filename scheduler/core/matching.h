#pragma once
// Matching tasks to offers. A task fits an offer when the offer's free resources cover the task's
// needs, the provider's reputation is at least the job's minimum, and the offer's price for those
// resources is at most the job's bid. Among fitting offers the cheapest wins; ties go to the offer
// with more free cores (spreading load), then to the lower worker id (determinism).
//
// GPU hosts are kept for GPU work: a task that needs no GPU goes to an offer without GPUs
// (capacity.gpus == 0) whenever one fits within its bid, even if a GPU host is cheaper; only when
// no GPU-less offer fits (resources, reputation or price) may it land on a GPU host. This stops CPU
// work from fragmenting the few machines large GPU tasks need.
//
// GPU work may ask for a GPU model (a case-insensitive substring of the offer's model), memory per
// GPU and measured throughput per GPU; an offer that lacks them does not fit. A job's blocklist
// (workers that failed its tasks too often) excludes those offers for its tasks.
//
// Backup tasks (replicas > 0) take disk only: they go to the `replicas` cheapest disk offers (price
// per GB-month) of distinct providers, all or none.
//
// Planning (planBookings) decides which task goes next: owners share the cluster by weighted
// dominant resource fairness (see PlanOptions), and within one owner tasks go by effective priority
// (job priority plus ageing), then in queue order. Pure: no I/O, no clock (now comes in options).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
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
  // Of the offer's GPUs (the least of them where they differ): model name, memory per GPU (MB),
  // measured throughput per GPU (GFLOPS, 0: not measured).
  std::string gpu_model = {};
  std::int64_t gpu_memory_mb = 0;
  std::int64_t gpu_throughput = 0;
  // Storage offered for backups, per GB-month; 0: the offer takes no backups.
  Micros price_disk_gb_month = 0;
};

struct TaskDemand {
  Resources need;
  Micros max_price = 0;  // per hour; per GB-month for backups
  Micros min_reputation = 0;
  std::string gpu_model = {};
  std::int64_t gpu_memory_mb = 0;
  std::int64_t min_gpu_throughput = 0;
  // Worker ids this task must not go to (its job's blocklist); usually empty.
  std::vector<std::string> excluded_workers = {};
};

// The hourly price of `need` on this offer: cores * core price + gpus * gpu price.
Micros hourlyPrice(const Offer& offer, const Resources& need);
bool fits(const Resources& have, const Resources& need);
// The offer's fixed qualities suit the demand: GPU model, memory and throughput (when the demand
// needs GPUs), not excluded. Free resources, reputation and price are checked apart.
bool gpuQualifies(const Offer& offer, const TaskDemand& demand);
bool excluded(const Offer& offer, const TaskDemand& demand);
// "model" contains "wanted", ignoring ASCII case; an empty "wanted" matches anything.
bool modelMatches(const std::string& model, const std::string& wanted);
// Whether the offer is a GPU host, which CPU-only tasks avoid while another offer fits.
inline bool isGpuHost(const Offer& offer) {
  return offer.capacity.gpus > 0;
}

// The best offer for one task among those with enough free resources, or nullopt. A linear scan:
// the reference for Matcher (matcher.h), which answers the same question from an index.
std::optional<std::size_t> pickOffer(const TaskDemand& demand, const std::vector<Offer>& offers);

// Whether a job could be placed at all by the offers known now, judged on their whole capacity:
// kPlaceable; kTooLow when offers fit but all cost more than the bid (acceptable_price is the
// lowest price among them); kNoOffer when no offer fits resources and reputation (the job waits
// for new workers). A scan: it runs once per submitted job, not once per decision.
struct Placeability {
  enum class Kind { kPlaceable, kTooLow, kNoOffer };
  Kind kind = Kind::kNoOffer;
  Micros acceptable_price = 0;
};
Placeability checkPlaceable(const TaskDemand& demand, const std::vector<Offer>& offers);
// Why no offer known now could ever hold the demand (judged on whole capacity), for the owner to
// read, e.g. "no alive worker has 8 GPU(s) (the most: 2)"; empty when one could.
std::string explainUnplaceable(const TaskDemand& demand, const std::vector<Offer>& offers);
// Whether the demand's blocklist (excluded_workers) is all that keeps it off every offer known
// now: some offer could hold it on whole capacity at its bid, but only blocklisted ones.
bool onlyBlocklistedFit(const TaskDemand& demand, const std::vector<Offer>& offers);

// Backup placement: the `replicas` cheapest offers of distinct providers with the disk free, a
// disk price at most the bid (per GB-month) and the reputation; ties to more free disk, then the
// lower worker id. Empty unless all replicas can be placed.
std::vector<std::size_t> placeReplicas(const TaskDemand& demand, int replicas,
                                       const std::vector<Offer>& offers);
// Whether a backup could be placed on the offers' whole capacity (for submit's answers).
Placeability checkReplicasPlaceable(const TaskDemand& demand, int replicas,
                                    const std::vector<Offer>& offers);

struct QueuedTask {
  // Constructors rather than an aggregate, so that callers brace-initialising the first three
  // fields (from before priority and ageing existed) compile without missing-field warnings.
  QueuedTask() = default;
  QueuedTask(std::string task_id_in, std::string owner_in, TaskDemand demand_in,
             std::string job_id_in = {}, int priority_in = 0, std::int64_t enqueued_at_ms_in = 0)
      : task_id(std::move(task_id_in)),
        owner(std::move(owner_in)),
        demand(demand_in),
        job_id(std::move(job_id_in)),
        priority(priority_in),
        enqueued_at_ms(enqueued_at_ms_in) {}

  std::string task_id;
  std::string owner;
  TaskDemand demand;
  std::string job_id;
  // Higher goes first among the owner's tasks.
  int priority = 0;
  // When the task became pending, in the caller's clock (ms); drives ageing.
  std::int64_t enqueued_at_ms = 0;
  // Backup: this many replicas on distinct providers (see placeReplicas); 0 for compute tasks.
  int replicas = 0;
  // May be preempted by higher-priority work (only meaningful once running).
  bool preemptible = false;
};

struct Booking {
  std::string task_id;
  std::string worker_id;
  Micros price = 0;  // hourly, agreed now; per GB-month for a backup replica
  // A backup replica (one Booking per replica, same task_id) rather than a compute booking.
  bool replica = false;
};

// How one planning round shares the cluster. The defaults reproduce plain round robin between
// owners in first-seen order, with no limits and no ageing.
struct PlanOptions {
  // The caller's clock (ms), compared with QueuedTask::enqueued_at_ms; the core reads no clock.
  std::int64_t now_ms = 0;
  // A task gains one priority level per ageing_step_ms waited, so an old low-priority job
  // eventually outranks a stream of newer high-priority ones. 0 turns ageing off.
  std::int64_t ageing_step_ms = 60'000;
  // Fair-share weights; an owner not listed (or with a weight that is not positive) weighs 1.
  std::map<std::string, double> owner_weights;
  // Resources the owner's running tasks hold now: the starting point of its dominant share.
  std::map<std::string, Resources> owner_usage;
  // Tasks the owner has running now, counted against its limit.
  std::map<std::string, int> owner_running;
  // The most tasks an owner may have running; owners not listed get default_owner_limit.
  std::map<std::string, int> owner_limits;
  int default_owner_limit = 0;  // 0: no limit
  // Keep GPU hosts for GPU tasks (see the top of this file). Off: the cheapest offer, GPU or not.
  bool keep_gpu_hosts_free = true;
};

// Books as many queued tasks as the offers' free resources allow. offers[i].free is reduced by
// each booking. Owners take turns by weighted dominant share: the owner whose running plus booked
// resources, as a fraction of the cluster's capacity in its dominant dimension and divided by its
// weight, is smallest books next (ties: the owner seen first in `queue`); with equal tasks and
// weights this is round robin. Priority orders tasks only within an owner, so no owner can jump
// the fair share by raising priorities. A task that fits nowhere is skipped for this plan rather
// than blocking the owner's later tasks; an owner at its limit books nothing more.
std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue, std::vector<Offer>& offers,
                                  const PlanOptions& options = {});

// A task running now, as preemption sees it.
struct RunningTask {
  std::string task_id;
  std::string worker_id;
  int priority = 0;
  bool preemptible = false;
  Resources need;
};

struct Preemption {
  Booking booking;                   // the waiting task, onto the freed worker
  std::vector<std::string> victims;  // running tasks to requeue first
};

// Preemption, for tasks planBookings left waiting (`waiting`, in the order given; only those with
// a priority above some preemptible running task matter): a task may take the place of
// preemptible running tasks of strictly lower priority on one worker when their resources plus
// the worker's free ones hold it and the worker otherwise suits it (GPU qualities, blocklist,
// reputation, price). Per task the worker needing the fewest victims wins (then the cheapest, then
// the lower worker id); victims are taken lowest priority first, then largest. Each running task
// is preempted at most once per plan; offers[i].free is updated. At most max_preemptions.
std::vector<Preemption> planPreemptions(const std::vector<QueuedTask>& waiting,
                                        const std::vector<RunningTask>& running,
                                        std::vector<Offer>& offers,
                                        std::size_t max_preemptions = 100);

}  // namespace dcloud::core
