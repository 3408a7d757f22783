// The store's worker side: registration, liveness checks, offers (free resources after active
// tasks and backup placements), lost workers and heartbeat reconciliation.
#include <chrono>
#include <set>

#include "common/json.h"
#include "scheduler/store.h"
#include "scheduler/store_internal.h"

namespace dcloud::scheduler {

using namespace detail;

Status SchedulerStore::registerWorker(const WorkerRecord& wr) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    w.exec_params0(
        "INSERT INTO scheduler.workers (id, provider, hostname, cores, memory_mb, disk_mb, gpus, "
        "price_core_hour, price_gpu_hour, offer, state, gpu_model, gpu_memory_mb, "
        "gpu_throughput, price_disk_gb_month) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10::jsonb, 'alive', $11, $12, $13, $14)",
        wr.id, wr.provider, wr.hostname, wr.capacity.cores, wr.capacity.memory_mb,
        wr.capacity.disk_mb, wr.capacity.gpus, wr.price_core_hour, wr.price_gpu_hour, wr.offer_json,
        wr.gpu_model, wr.gpu_memory_mb, wr.gpu_throughput, wr.price_disk_gb_month);
    w.commit();
    forgetOffers();
    return okStatus();
  });
}

namespace {
// How long a worker found alive is taken as alive without asking again. Every worker call asks,
// and a busy worker calls several times a second. Nothing unsafe waits on it: bookings only go
// to workers alive in the database, and progress and completions are fenced by their attempt. A
// worker another scheduler declared lost learns it within this long.
constexpr std::chrono::milliseconds kKnownWorkerFor{10'000};
}  // namespace

Status SchedulerStore::checkWorker(const std::string& worker_id, const std::string& provider) {
  {
    std::lock_guard lock(workers_mutex_);
    auto it = alive_workers_.find(worker_id);
    if (it != alive_workers_.end() && it->second.provider == provider &&
        std::chrono::steady_clock::now() < it->second.until) {
      return okStatus();
    }
  }
  Status checked = pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::read_transaction w(c);
    static const std::string kName = "check_worker";
    auto rows = w.exec_prepared(
        prepared(w, kName, "SELECT provider, state FROM scheduler.workers WHERE id = $1::uuid"),
        worker_id);
    if (rows.empty()) return notFound("no worker " + worker_id + "; register again");
    if (rows[0][0].as<std::string>() != provider) {
      return permissionDenied("worker " + worker_id + " belongs to another provider");
    }
    if (rows[0][1].as<std::string>() != "alive") {
      return notFound("worker " + worker_id + " was declared lost; register again");
    }
    return okStatus();
  });
  if (checked.ok()) {
    std::lock_guard lock(workers_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (alive_workers_.size() >= 100'000) {
      std::erase_if(alive_workers_, [&](const auto& e) { return e.second.until <= now; });
    }
    alive_workers_[worker_id] = {provider, now + kKnownWorkerFor};
  }
  return checked;
}

Result<OfferSnapshot> SchedulerStore::loadOfferSnapshot() {
  return pool_.with<OfferSnapshot>([&](pqxx::connection& c) -> Result<OfferSnapshot> {
    // One snapshot for both reads: an attempt booked between them would otherwise be counted on
    // a worker the first read did not see, or missed.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> w(c);
    static const std::string kOffers = "idle_offers_v2";
    auto rows = w.exec_prepared(prepared(w, kOffers, R"sql(
      WITH p AS (
        SELECT worker_id, SUM(capacity_mb) AS capacity_mb FROM scheduler.placements
        WHERE released_at IS NULL GROUP BY worker_id)
      SELECT w.id, w.provider, w.cores, w.memory_mb, w.gpus, w.disk_mb, w.price_core_hour,
             w.price_gpu_hour, COALESCE(a.reputation, 0), w.gpu_model, w.gpu_memory_mb,
             w.gpu_throughput, w.price_disk_gb_month, COALESCE(p.capacity_mb, 0)
      FROM scheduler.workers w
      LEFT JOIN ledger.accounts a ON a.id = w.provider
      LEFT JOIN p ON p.worker_id = w.id
      WHERE w.state = 'alive'
      ORDER BY w.id)sql"));
    OfferSnapshot out;
    out.idle.reserve(rows.size());
    for (const auto& r : rows) {
      core::Offer o;
      o.worker_id = r[0].as<std::string>();
      o.provider = r[1].as<std::string>();
      o.capacity = {r[2].as<int>(), r[3].as<std::int64_t>(), r[4].as<int>(),
                    r[5].as<std::int64_t>()};
      o.price_core_hour = r[6].as<Micros>();
      o.price_gpu_hour = r[7].as<Micros>();
      o.reputation = r[8].as<Micros>();
      o.gpu_model = r[9].as<std::string>();
      o.gpu_memory_mb = r[10].as<std::int64_t>();
      o.gpu_throughput = r[11].as<std::int64_t>();
      o.price_disk_gb_month = r[12].as<Micros>();
      o.free = o.capacity;
      // Backups hold their disk for the contract's duration.
      o.free.disk_mb -= r[13].as<std::int64_t>();
      out.idle.push_back(std::move(o));
    }
    // tasks_worker_active indexes exactly these rows.
    static const std::string kActive = "active_attempts";
    static const std::string kActiveSql =
        "SELECT t.attempt_id, t.worker_id, " + std::string(kResourceColumns) +
        " FROM scheduler.tasks t JOIN scheduler.jobs j ON j.id = t.job_id"
        " WHERE t.state IN ('leased', 'running') AND t.attempt_id IS NOT NULL";
    auto active = w.exec_prepared(prepared(w, kActive, kActiveSql.c_str()));
    out.active.reserve(active.size());
    for (const auto& r : active) {
      out.active.push_back({r[0].as<std::string>(), r[1].as<std::string>(), resourcesAt(r, 2)});
    }
    return out;
  });
}

Result<int> SchedulerStore::releaseExpiredPlacements(std::int64_t now_ms) {
  return pool_.with<int>([&](pqxx::connection& c) -> Result<int> {
    // One statement: autocommit is atomic. Expiry is judged on the scheduler's clock (the one
    // tests drive), not the database's.
    pqxx::nontransaction w(c);
    static const std::string kName = "release_expired_placements";
    auto rows = w.exec_prepared(
        prepared(w, kName,
                 "UPDATE scheduler.placements SET released_at = to_timestamp($1::bigint / 1000.0) "
                 "WHERE released_at IS NULL AND expires_at <= to_timestamp($1::bigint / 1000.0) "
                 "RETURNING id"),
        now_ms);
    return static_cast<int>(rows.size());
  });
}

Result<std::vector<core::Offer>> SchedulerStore::loadOffers() {
  auto snapshot = loadOfferSnapshot();
  if (!snapshot.ok()) return snapshot.error();
  core::OfferBook book;
  book.reset(std::move(snapshot->idle), std::move(snapshot->active));
  return book.offers();
}

Result<std::vector<core::Offer>> SchedulerStore::recentOffers(std::chrono::milliseconds max_age) {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(offers_mutex_);
    if (offers_.has_value() && std::chrono::steady_clock::now() - offers_at_ < max_age) {
      return *offers_;
    }
    generation = offers_generation_;
  }
  const auto at = std::chrono::steady_clock::now();
  auto offers = loadOffers();
  if (!offers.ok()) return offers;
  std::lock_guard lock(offers_mutex_);
  // A registration or loss during the load forgot the snapshot: this load may predate it.
  if (generation == offers_generation_) {
    offers_ = *offers;
    offers_at_ = at;
  }
  return offers;
}

void SchedulerStore::forgetOffers() {
  std::lock_guard lock(offers_mutex_);
  offers_.reset();
  ++offers_generation_;
}

Result<std::vector<std::string>> SchedulerStore::aliveWorkerIds() {
  using Out = std::vector<std::string>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    Out out;
    for (const auto& r : w.exec("SELECT id FROM scheduler.workers WHERE state = 'alive'")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

Result<int> SchedulerStore::markWorkerLost(const std::string& worker_id, const std::string& why) {
  auto forget = [&] {
    std::lock_guard lock(workers_mutex_);
    alive_workers_.erase(worker_id);
  };
  forget();
  forgetOffers();
  Result<int> requeued = pool_.with<int>([&](pqxx::connection& c) -> Result<int> {
    pqxx::work w(c);
    auto lost = w.exec_params(
        "UPDATE scheduler.workers SET state = 'lost', lost_at = now() "
        "WHERE id = $1::uuid AND state = 'alive' RETURNING id",
        worker_id);
    if (lost.empty()) return 0;
    auto rows = w.exec_params(
        "UPDATE scheduler.tasks t SET "
        "state = CASE WHEN t.attempts >= (j.spec->>'max_attempts')::int THEN 'failed' ELSE "
        "'pending' END, "
        "error = $2, worker_id = NULL, attempt_id = NULL, delivered = false, "
        "finished_at = CASE WHEN t.attempts >= (j.spec->>'max_attempts')::int THEN now() END "
        "FROM scheduler.jobs j WHERE j.id = t.job_id AND t.worker_id = $1::uuid "
        "AND t.state IN ('leased', 'running') RETURNING t.job_id, t.id::text, t.state",
        worker_id, why);
    std::set<std::string> jobs;
    std::vector<std::string> failed;
    for (const auto& r : rows) {
      jobs.insert(r[0].as<std::string>());
      if (r[2].as<std::string>() == "failed") failed.push_back(r[1].as<std::string>());
    }
    cancelTaskDependents(w, failed);
    for (const auto& j : jobs) refreshJobState(w, j);
    w.commit();
    return static_cast<int>(rows.size());
  });
  forget();  // a check that raced with the update may have remembered it alive
  return requeued;
}

Result<std::vector<std::string>> SchedulerStore::reconcileHeartbeat(
    const std::string& worker_id, const std::vector<std::string>& running,
    std::int64_t grace_seconds) {
  using Out = std::vector<std::string>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::work w(c);
    // A lease lost in transit used up its attempt, as a lost worker's does (markWorkerLost).
    auto rows = w.exec_params(
        "UPDATE scheduler.tasks t SET "
        "state = CASE WHEN t.attempts >= (j.spec->>'max_attempts')::int THEN 'failed' "
        "ELSE 'pending' END, "
        "finished_at = CASE WHEN t.attempts >= (j.spec->>'max_attempts')::int THEN now() END, "
        "worker_id = NULL, attempt_id = NULL, delivered = false, error = 'lease lost in transit' "
        "FROM scheduler.jobs j WHERE j.id = t.job_id "
        "AND t.worker_id = $1::uuid AND t.state IN ('leased', 'running') AND t.delivered "
        "AND t.leased_at < now() - make_interval(secs => $3) "
        "AND NOT (t.attempt_id::text IN (SELECT jsonb_array_elements_text($2::jsonb))) "
        "RETURNING t.id, t.job_id, t.state",
        worker_id, jsonList(running), static_cast<double>(grace_seconds));
    Out out;
    std::set<std::string> jobs;
    std::vector<std::string> failed;
    for (const auto& r : rows) {
      out.push_back(r[0].as<std::string>());
      jobs.insert(r[1].as<std::string>());
      if (r[2].as<std::string>() == "failed") failed.push_back(r[0].as<std::string>());
    }
    cancelTaskDependents(w, failed);
    for (const auto& j : jobs) refreshJobState(w, j);
    w.commit();
    return out;
  });
}

Result<std::vector<std::string>> SchedulerStore::cancelledAttempts(
    const std::string& worker_id, const std::vector<std::string>& running) {
  using Out = std::vector<std::string>;
  if (running.empty()) return Out{};
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    // Attempts the worker runs that no longer hold their task: cancelled, requeued or reassigned.
    auto rows = w.exec_params(
        "SELECT a FROM jsonb_array_elements_text($1::jsonb) a WHERE NOT EXISTS ("
        "SELECT 1 FROM scheduler.tasks t WHERE t.attempt_id::text = a AND t.worker_id = $2::uuid "
        "AND t.state IN ('leased', 'running'))",
        jsonList(running), worker_id);
    Out out;
    for (const auto& r : rows) out.push_back(r[0].as<std::string>());
    return out;
  });
}

}  // namespace dcloud::scheduler
