#pragma once
// The scheduler's PostgreSQL store: the truth about jobs, tasks, workers and the settlement
// outbox. Every method is one transaction; errors come back as values (pqxx never escapes).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/money.h"
#include "common/pg.h"
#include "common/receipt.h"
#include "common/result.h"
#include "scheduler/core/job_spec.h"
#include "scheduler/core/matching.h"
#include "scheduler/core/offer_book.h"
#include "scheduler/core/task_state.h"
#include "scheduler/group_commit.h"
#include "scheduler/outbox_notifier.h"

namespace dcloud::scheduler {

struct NewJob {
  std::string id;
  std::string owner;
  core::JobSpec spec;
  std::string spec_json;
  std::string output_bucket;
  std::string output_prefix;
  std::vector<core::TaskPlan> tasks;
  std::vector<std::string> task_ids;
  Micros hold = 0;
  // Refused with ResourceExhausted/queue-full when the owner's unfinished jobs already hold this
  // many tasks (0: no cap).
  std::int64_t max_queued_tasks = 0;
  // Why it cannot run now, shown until its first booking ('' when nothing is known).
  std::string wait_reason;
};

struct TaskView {
  std::string id;
  int index = 0;
  int frame_first = 0;
  int frame_last = 0;
  std::string state;
  int attempts = 0;
  std::string worker_id;
  std::optional<Micros> price;
  std::optional<Micros> cost;
  int frames_done = 0;
  std::vector<std::string> outputs;
  std::optional<int> exit_code;
  std::string error;
  bool settled = false;
  std::int64_t not_before_ms = 0;  // retry backoff: not booked before (scheduler clock)
  int blockers = 0;                // tasks it waits for that have not succeeded
};

struct PlacementView {
  std::string worker_id;
  std::string provider;
  std::int64_t capacity_mb = 0;
  Micros price_gb_month = 0;
  std::string expires_at;
  std::string released_at;  // '' while it holds the disk
};

struct JobView {
  std::string id;
  std::string owner;
  std::string kind;
  std::string name;
  std::string state;
  Micros max_price = 0;
  Micros min_reputation = 0;
  std::string output_bucket;
  std::string output_prefix;
  int task_count = 0;
  std::string created_at;
  std::string finished_at;
  std::string spec_json;
  core::TaskCounts counts;
  Micros cost = 0;     // charged so far
  Micros settled = 0;  // of which the ledger has settled
  bool paused = false;
  int priority = 0;
  bool preemptible = false;
  int blockers = 0;  // jobs it waits for that have not succeeded
  std::string wait_reason;
  std::vector<TaskView> tasks;            // only from getJob
  std::vector<PlacementView> placements;  // backups, only from getJob
};

struct WorkerRecord {
  std::string id;
  std::string provider;
  std::string hostname;
  core::Resources capacity;
  Micros price_core_hour = 0;
  Micros price_gpu_hour = 0;
  std::string gpu_model;
  std::int64_t gpu_memory_mb = 0;
  std::int64_t gpu_throughput = 0;
  Micros price_disk_gb_month = 0;
  std::string offer_json;
};

// What a worker receives for one booking.
struct Assignment {
  std::string task_id;
  std::string attempt_id;
  std::string job_id;
  std::string owner;
  core::JobSpec spec;
  std::string output_bucket;
  std::string output_prefix;
  int index = 0;
  int frame_first = 0;
  int frame_last = 0;
  Micros price = 0;
};

// Which job and which of its tasks a worker's report was about.
struct TaskRef {
  std::string job_id;
  int index = 0;
};

struct AccountView {
  std::string id;
  Micros balance = 0;
  Micros reputation = 0;
  Micros held = 0;  // escrow held for the owner's active jobs and unsettled charges
};

struct Completion {
  std::string worker_id;
  std::string task_id;
  std::string attempt_id;
  bool succeeded = false;
  int exit_code = 0;
  std::string error;
  std::vector<std::string> outputs;
  UsageReceipt receipt;
  std::string receipt_signature;
  std::string receipt_json;
  std::int64_t now_ms = 0;  // the scheduler's clock, for the retry backoff
};

// The live offers with nothing running (free: capacity less backup placements) and the attempts
// holding resources on workers, read in one snapshot (the dispatcher's OfferBook).
struct OfferSnapshot {
  std::vector<core::Offer> idle;
  std::vector<core::ActiveAttempt> active;
};

// What a committed booking batch did: the workers to wake and the compute attempts it created
// (backup replicas hold disk through placements, which only a reload sees).
struct BookedBatch {
  std::vector<std::string> woken;  // workers with work in the database (not handed over)
  std::vector<core::ActiveAttempt> attempts;
  // Bookings for the workers booked by hand, by worker, already marked delivered: each must
  // reach its worker's poll or go back to the database (releaseAssignments).
  std::unordered_map<std::string, std::vector<Assignment>> handed;
  bool placed_replicas = false;
};

struct CompletionResult {
  TaskRef task;
  std::string task_state;
  std::string job_state;
  Micros cost = 0;
};

class SchedulerStore {
 public:
  explicit SchedulerStore(PgPool& pool)
      : pool_(pool),
        outbox_notifier_(pool),
        completions_([this](const auto& batch) { return completeBatch(batch); },
                     kMaxCompletionBatch) {}

  // Inserts the job and all its tasks in one transaction, after checking (in the same transaction,
  // under a per-owner lock) that the owner's available balance covers job.hold:
  // PaymentRequired/insufficient-funds otherwise. created_at, when given, receives the stored
  // creation time as the views show it.
  Status createJob(const NewJob& job, std::string* created_at = nullptr);
  // The owner's newest jobs, at most limit; active_only: only queued and running ones.
  Result<std::vector<JobView>> listJobs(const std::string& owner, int limit,
                                        bool active_only = false);
  // NotFound when the job does not exist or belongs to someone else.
  Result<JobView> getJob(const std::string& owner, const std::string& job_id);
  // Cancels every unfinished task; returns the attempt ids that were running (to stop workers).
  // Jobs and tasks waiting for it are cancelled too.
  Result<std::vector<std::string>> cancelJob(const std::string& owner, const std::string& job_id);
  // Pause (no new bookings; running tasks finish) or resume. NotFound for an unknown or foreign
  // job, FailedPrecondition for a finished one.
  Status setPaused(const std::string& owner, const std::string& job_id, bool paused);
  // Sends task `index` back to pending with a fresh attempt budget (escrow for it is held, under
  // the same balance check as a submit). A leased or running attempt is fenced: the worker is
  // told to stop, and its completion is billed once without touching the task. Returns the
  // fenced attempt id, or "" when none ran. FailedPrecondition when the task is pending already
  // or the job is a backup.
  Result<std::string> requeueTask(const std::string& owner, const std::string& job_id, int index);

  Status registerWorker(const WorkerRecord& worker);
  // NotFound unless the worker exists, is alive and belongs to provider. A positive answer is
  // remembered for a moment (every worker call asks; the statements that change tasks fence on
  // the worker and attempt themselves); markWorkerLost forgets it at once in this process.
  Status checkWorker(const std::string& worker_id, const std::string& provider);
  // Alive workers as offers with free = capacity minus their active tasks' needs, and reputation
  // from the ledger.
  Result<std::vector<core::Offer>> loadOffers();
  // The same, as idle offers and the active attempts apart, in one snapshot.
  Result<OfferSnapshot> loadOfferSnapshot();
  // loadOffers from a snapshot at most max_age old (price discovery on submit, where a moment's
  // staleness only changes a warning); registrations and losses through this store forget it.
  Result<std::vector<core::Offer>> recentOffers(std::chrono::milliseconds max_age);
  Result<std::vector<std::string>> aliveWorkerIds();
  // Ready tasks of runnable jobs, owners' oldest jobs first, at most limit: pending, not waiting
  // for a task or job, not in retry backoff at now_ms, job not paused. Each carries its job's
  // blocklist as excluded workers.
  Result<std::vector<core::QueuedTask>> pendingTasks(int limit, std::int64_t now_ms = 0);
  // Leased or running tasks of preemptible jobs with a priority below `below`.
  Result<std::vector<core::RunningTask>> preemptibleTasks(int below);
  // Requeues the victims (fenced like a lost lease, the attempt not counted) and books the
  // preempting tasks, in one transaction under the leader fence.
  Result<BookedBatch> commitPreemptions(const std::vector<core::Preemption>& plan,
                                        std::int64_t fencing_token);
  // Takes the leader lease for holder when it is free or expired at now_ms (a new fencing token),
  // or renews it when holder has it (the same token); until now_ms + ttl_ms either way. nullopt
  // while another holder's lease is valid.
  Result<std::optional<std::int64_t>> acquireLeadership(const std::string& holder,
                                                        std::int64_t now_ms, std::int64_t ttl_ms);
  // Books each task (pending -> leased) with a fresh attempt id, in one statement; skips tasks
  // that are no longer pending, jobs paused meanwhile, or workers no longer alive. Replica
  // bookings place a backup: all its replicas are recorded and the task succeeds, or none.
  // Conflict/stale-leader, booking nothing, unless fencing_token is the current leader's.
  // Placements expire duration_days after now_ms (the scheduler's clock; 0: the database's).
  // Compute tasks booked onto a worker in `by_hand` are marked delivered and returned whole
  // (BookedBatch::handed) for a poll of this process; the others wait in the database.
  Result<BookedBatch> commitBookings(const std::vector<core::Booking>& bookings,
                                     std::int64_t fencing_token, std::int64_t now_ms = 0,
                                     const std::unordered_set<std::string>& by_hand = {});
  // The dispatcher's explanation for jobs whose ready tasks only blocklisted workers could run:
  // `blocked` jobs (unfinished) get a wait_reason naming the blocklist; `cleared` jobs lose it
  // (when it is still that reason). A booking clears it too.
  Status noteBlocklisted(const std::vector<std::string>& blocked,
                         const std::vector<std::string>& cleared);
  // Leased, undelivered tasks of this worker; marks them delivered.
  Result<std::vector<Assignment>> takeAssignments(const std::string& worker_id);
  // Undoes takeAssignments for attempts that could not be handed over.
  Status releaseAssignments(const std::string& worker_id, const std::vector<Assignment>& tasks);
  // Progress from the holder of attempt_id: Conflict when the attempt is stale or cancelled.
  Result<TaskRef> reportProgress(const std::string& worker_id, const std::string& task_id,
                                 const std::string& attempt_id, int frames_done,
                                 const std::vector<std::string>& outputs);
  // Settles an attempt: the task's next state (succeeded, failed, or pending for a retry after
  // its backoff), its charge in the outbox, the job's state; tasks waiting for it learn of it.
  // Conflict for a stale or repeated completion. Concurrent successes share one transaction.
  Result<CompletionResult> completeTask(const Completion& completion);
  // Backup placements whose expiry is at or before now_ms (the scheduler's clock) stop holding
  // their disk (released_at); the number released.
  Result<int> releaseExpiredPlacements(std::int64_t now_ms);
  // The worker is gone: its active tasks go back to pending (or fail when out of attempts).
  Result<int> markWorkerLost(const std::string& worker_id, const std::string& why);
  // Delivered leases that the worker no longer reports holding (lost in transit) are requeued.
  Result<std::vector<std::string>> reconcileHeartbeat(const std::string& worker_id,
                                                      const std::vector<std::string>& running,
                                                      std::int64_t grace_seconds);
  Result<std::vector<std::string>> cancelledAttempts(const std::string& worker_id,
                                                     const std::vector<std::string>& running);
  Result<AccountView> account(const std::string& id);

 private:
  PgPool& pool_;
  Result<BookedBatch> book(pqxx::transaction_base& w, const std::vector<core::Booking>& bookings,
                           std::int64_t fencing_token, std::int64_t now_ms,
                           const std::unordered_set<std::string>& by_hand);
  struct KnownWorker {
    std::string provider;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex workers_mutex_;
  std::unordered_map<std::string, KnownWorker> alive_workers_;
  OutboxNotifier outbox_notifier_;  // its thread may use pool_ until it is destroyed
  // Completions in one transaction at most this many.
  static constexpr std::size_t kMaxCompletionBatch = 256;
  // Last: its thread uses pool_ and outbox_notifier_ until it is destroyed.
  GroupCommit<Completion, Result<CompletionResult>> completions_;
  Result<CompletionResult> completeAlone(const Completion& completion);
  std::vector<std::optional<Result<CompletionResult>>> completeBatch(
      const std::vector<const Completion*>& batch);
  void forgetOffers();
  std::mutex offers_mutex_;
  std::optional<std::vector<core::Offer>> offers_;
  std::chrono::steady_clock::time_point offers_at_;
  std::uint64_t offers_generation_ = 0;
};

}  // namespace dcloud::scheduler
