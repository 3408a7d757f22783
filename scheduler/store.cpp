#include "scheduler/store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/json.h"

namespace dcloud::scheduler {

namespace {

// pqxx 6 has no array parameters: pass lists as a JSON array and unnest it in SQL.
std::string jsonList(const std::vector<std::string>& items) {
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& s : items) arr->add(s);
  return toJson(arr);
}

std::vector<std::string> parseJsonList(const std::string& text) {
  std::vector<std::string> out;
  try {
    Poco::JSON::Parser p;
    auto arr = p.parse(text).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(i));
  } catch (const std::exception&) {
  }
  return out;
}

constexpr const char* kAvailableSql = R"sql(
  SELECT COALESCE((SELECT balance FROM ledger.accounts WHERE id = $1), 0)
       - COALESCE((SELECT SUM(hold) FROM scheduler.jobs
                   WHERE owner = $1 AND state IN ('queued', 'running')), 0)
       - COALESCE((SELECT SUM(o.amount) FROM scheduler.outbox o JOIN scheduler.jobs j ON j.id = o.job_id
                   WHERE o.payer = $1 AND o.settled_at IS NULL
                     AND j.state NOT IN ('queued', 'running')), 0),
         COALESCE((SELECT SUM(hold) FROM scheduler.jobs
                   WHERE owner = $1 AND state IN ('queued', 'running')), 0)
)sql";

// Recomputes the job's state from its tasks' states, in the caller's transaction.
std::string refreshJobState(pqxx::work& w, const std::string& job_id) {
  auto rows = w.exec_params(
      "SELECT state, COUNT(*) FROM scheduler.tasks WHERE job_id = $1::uuid "
      "GROUP BY state",
      job_id);
  core::TaskCounts c;
  for (const auto& r : rows) {
    auto state = core::parseTaskState(r[0].as<std::string>());
    int n = r[1].as<int>();
    if (!state.ok()) continue;
    switch (*state) {
      case core::TaskState::kPending: c.pending += n; break;
      case core::TaskState::kLeased: c.leased += n; break;
      case core::TaskState::kRunning: c.running += n; break;
      case core::TaskState::kSucceeded: c.succeeded += n; break;
      case core::TaskState::kFailed: c.failed += n; break;
      case core::TaskState::kCancelled: c.cancelled += n; break;
    }
  }
  const std::string state = core::jobStateName(core::deriveJobState(c));
  const bool done = state == "succeeded" || state == "failed" || state == "cancelled";
  w.exec_params0(
      "UPDATE scheduler.jobs SET state = $2, finished_at = CASE WHEN $3 THEN "
      "COALESCE(finished_at, now()) ELSE NULL END WHERE id = $1::uuid",
      job_id, state, done);
  return state;
}

JobView jobFromRow(const pqxx::row& r) {
  JobView j;
  j.id = r["id"].as<std::string>();
  j.owner = r["owner"].as<std::string>();
  j.kind = r["kind"].as<std::string>();
  j.name = r["name"].as<std::string>();
  j.state = r["state"].as<std::string>();
  j.max_price = r["max_price"].as<Micros>();
  j.min_reputation = r["min_reputation"].as<Micros>();
  j.output_bucket = r["output_bucket"].as<std::string>();
  j.output_prefix = r["output_prefix"].as<std::string>();
  j.task_count = r["task_count"].as<int>();
  j.created_at = r["created_at"].as<std::string>();
  j.finished_at = r["finished_at"].is_null() ? "" : r["finished_at"].as<std::string>();
  j.spec_json = r["spec"].as<std::string>();
  j.counts.pending = r["n_pending"].as<int>();
  j.counts.leased = r["n_leased"].as<int>();
  j.counts.running = r["n_running"].as<int>();
  j.counts.succeeded = r["n_succeeded"].as<int>();
  j.counts.failed = r["n_failed"].as<int>();
  j.counts.cancelled = r["n_cancelled"].as<int>();
  j.cost = r["cost"].as<Micros>();
  j.settled = r["settled"].as<Micros>();
  return j;
}

constexpr const char* kJobSelect = R"sql(
  SELECT j.id, j.owner, j.kind, j.name, j.state, j.max_price, j.min_reputation, j.output_bucket,
         j.output_prefix, j.task_count,
         to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
         to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
         j.spec::text AS spec,
         (SELECT COUNT(*) FILTER (WHERE state = 'pending') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_pending,
         (SELECT COUNT(*) FILTER (WHERE state = 'leased') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_leased,
         (SELECT COUNT(*) FILTER (WHERE state = 'running') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_running,
         (SELECT COUNT(*) FILTER (WHERE state = 'succeeded') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_succeeded,
         (SELECT COUNT(*) FILTER (WHERE state = 'failed') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_failed,
         (SELECT COUNT(*) FILTER (WHERE state = 'cancelled') FROM scheduler.tasks t WHERE t.job_id = j.id) AS n_cancelled,
         COALESCE((SELECT SUM(amount) FROM scheduler.outbox o WHERE o.job_id = j.id), 0) AS cost,
         COALESCE((SELECT SUM(amount) FROM scheduler.outbox o WHERE o.job_id = j.id
                   AND o.settled_at IS NOT NULL), 0) AS settled
  FROM scheduler.jobs j
)sql";

Result<core::JobSpec> specFromRow(const std::string& spec_json);

// Names a statement prepared once per connection (pqxx sends it on first use; defining it again
// with the same text is a no-op): the per-task statements skip PostgreSQL's parse and plan, which
// otherwise cost it more than running them.
const std::string& prepared(pqxx::transaction_base& w, const std::string& name, const char* sql) {
  w.conn().prepare(name, sql);
  return name;
}

}  // namespace

// Defined in job_json.cpp; declared here to keep the store free of the API's JSON shapes.
Result<core::JobSpec> parseStoredSpec(const std::string& spec_json);

namespace {
Result<core::JobSpec> specFromRow(const std::string& spec_json) {
  return parseStoredSpec(spec_json);
}
}  // namespace

Status SchedulerStore::createJob(const NewJob& job) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    // Serialize submissions of one owner so two jobs cannot both spend the same balance.
    w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", job.owner);
    auto avail = w.exec_params1(kAvailableSql, job.owner);
    const Micros available = avail[0].as<Micros>();
    if (available < job.hold) {
      Error e{ErrorCode::kPaymentRequired,
              "balance available " + formatMicros(available) + " does not cover the job's escrow " +
                  formatMicros(job.hold) + " (tasks x attempts x max price x timeout)",
              "insufficient-funds"};
      return e;
    }
    w.exec_params0(
        "INSERT INTO scheduler.jobs (id, owner, kind, name, spec, state, max_price, "
        "min_reputation, "
        "output_bucket, output_prefix, task_count, hold) VALUES ($1::uuid, $2, $3, $4, $5::jsonb, "
        "'queued', $6, $7, $8, $9, $10, $11)",
        job.id, job.owner, std::string(core::jobKindName(job.spec.kind)), job.spec.name,
        job.spec_json, job.spec.max_price, job.spec.min_reputation, job.output_bucket,
        job.output_prefix, static_cast<int>(job.tasks.size()), job.hold);
    pqxx::stream_to stream(
        w, "scheduler.tasks",
        std::vector<std::string>{"id", "job_id", "index", "frame_first", "frame_last", "state"});
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
      const auto& t = job.tasks[i];
      stream << std::make_tuple(job.task_ids[i], job.id, t.index, t.frame_first, t.frame_last,
                                std::string("pending"));
    }
    stream.complete();
    w.commit();
    return okStatus();
  });
}

Result<std::vector<JobView>> SchedulerStore::listJobs(const std::string& owner, int limit) {
  return pool_.with<std::vector<JobView>>([&](pqxx::connection& c) -> Result<std::vector<JobView>> {
    pqxx::read_transaction w(c);
    auto rows = w.exec_params(
        std::string(kJobSelect) + " WHERE j.owner = $1 ORDER BY j.created_at DESC LIMIT $2", owner,
        limit);
    std::vector<JobView> out;
    for (const auto& r : rows) out.push_back(jobFromRow(r));
    return out;
  });
}

Result<JobView> SchedulerStore::getJob(const std::string& owner, const std::string& job_id) {
  return pool_.with<JobView>([&](pqxx::connection& c) -> Result<JobView> {
    pqxx::read_transaction w(c);
    auto rows = w.exec_params(std::string(kJobSelect) + " WHERE j.id = $1::uuid AND j.owner = $2",
                              job_id, owner);
    if (rows.empty()) return notFound("no job " + job_id);
    JobView j = jobFromRow(rows[0]);
    auto tasks = w.exec_params(
        "SELECT t.id, t.index, t.frame_first, t.frame_last, t.state, t.attempts, "
        "COALESCE(t.worker_id::text, ''), t.price, t.frames_done, t.outputs::text, t.exit_code, "
        "t.error, (SELECT SUM(amount) FROM scheduler.outbox o WHERE o.task_id = t.id), "
        "NOT EXISTS (SELECT 1 FROM scheduler.outbox o WHERE o.task_id = t.id AND o.settled_at IS "
        "NULL) AND EXISTS (SELECT 1 FROM scheduler.outbox o WHERE o.task_id = t.id) "
        "FROM scheduler.tasks t WHERE t.job_id = $1::uuid ORDER BY t.index",
        job_id);
    for (const auto& r : tasks) {
      TaskView t;
      t.id = r[0].as<std::string>();
      t.index = r[1].as<int>();
      t.frame_first = r[2].as<int>();
      t.frame_last = r[3].as<int>();
      t.state = r[4].as<std::string>();
      t.attempts = r[5].as<int>();
      t.worker_id = r[6].as<std::string>();
      if (!r[7].is_null()) t.price = r[7].as<Micros>();
      t.frames_done = r[8].as<int>();
      t.outputs = parseJsonList(r[9].as<std::string>());
      if (!r[10].is_null()) t.exit_code = r[10].as<int>();
      t.error = r[11].as<std::string>();
      if (!r[12].is_null()) t.cost = r[12].as<Micros>();
      t.settled = r[13].as<bool>();
      j.tasks.push_back(std::move(t));
    }
    return j;
  });
}

Result<std::vector<std::string>> SchedulerStore::cancelJob(const std::string& owner,
                                                           const std::string& job_id) {
  using Out = std::vector<std::string>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::work w(c);
    auto job = w.exec_params(
        "SELECT state FROM scheduler.jobs WHERE id = $1::uuid AND owner = $2 "
        "FOR UPDATE",
        job_id, owner);
    if (job.empty()) return notFound("no job " + job_id);
    Out running;
    auto rows = w.exec_params(
        "UPDATE scheduler.tasks t SET state = 'cancelled', finished_at = now() "
        "FROM (SELECT id, state AS old_state, attempt_id FROM scheduler.tasks "
        "      WHERE job_id = $1::uuid AND state IN ('pending', 'leased', 'running') FOR UPDATE) o "
        "WHERE t.id = o.id RETURNING o.old_state, COALESCE(o.attempt_id::text, '')",
        job_id);
    for (const auto& r : rows) {
      if (r[0].as<std::string>() != "pending") running.push_back(r[1].as<std::string>());
    }
    refreshJobState(w, job_id);
    w.commit();
    return running;
  });
}

Status SchedulerStore::registerWorker(const WorkerRecord& wr) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    w.exec_params0(
        "INSERT INTO scheduler.workers (id, provider, hostname, cores, memory_mb, disk_mb, gpus, "
        "price_core_hour, price_gpu_hour, offer, state) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10::jsonb, 'alive')",
        wr.id, wr.provider, wr.hostname, wr.capacity.cores, wr.capacity.memory_mb,
        wr.capacity.disk_mb, wr.capacity.gpus, wr.price_core_hour, wr.price_gpu_hour,
        wr.offer_json);
    w.commit();
    return okStatus();
  });
}

namespace {
// How long a worker found alive is taken as alive without asking again.
constexpr std::chrono::milliseconds kKnownWorkerFor{2000};
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

Result<std::vector<core::Offer>> SchedulerStore::loadOffers() {
  using Out = std::vector<core::Offer>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    static const std::string kName = "load_offers";
    auto rows = w.exec_prepared(prepared(w, kName, R"sql(
      SELECT w.id, w.provider, w.cores, w.memory_mb, w.gpus, w.disk_mb, w.price_core_hour,
             w.price_gpu_hour, COALESCE(a.reputation, 0),
             COALESCE(SUM((j.spec->'resources'->>'cores')::int), 0),
             COALESCE(SUM((j.spec->'resources'->>'memory_mb')::bigint), 0),
             COALESCE(SUM((j.spec->'resources'->>'gpus')::int), 0),
             COALESCE(SUM((j.spec->'resources'->>'disk_mb')::bigint), 0)
      FROM scheduler.workers w
      LEFT JOIN ledger.accounts a ON a.id = w.provider
      LEFT JOIN scheduler.tasks t ON t.worker_id = w.id AND t.state IN ('leased', 'running')
      LEFT JOIN scheduler.jobs j ON j.id = t.job_id
      WHERE w.state = 'alive'
      GROUP BY w.id, a.reputation
      ORDER BY w.id)sql"));
    Out out;
    for (const auto& r : rows) {
      core::Offer o;
      o.worker_id = r[0].as<std::string>();
      o.provider = r[1].as<std::string>();
      o.capacity = {r[2].as<int>(), r[3].as<std::int64_t>(), r[4].as<int>(),
                    r[5].as<std::int64_t>()};
      o.price_core_hour = r[6].as<Micros>();
      o.price_gpu_hour = r[7].as<Micros>();
      o.reputation = r[8].as<Micros>();
      o.free = o.capacity;
      o.free.cores -= r[9].as<int>();
      o.free.memory_mb -= r[10].as<std::int64_t>();
      o.free.gpus -= r[11].as<int>();
      o.free.disk_mb -= r[12].as<std::int64_t>();
      out.push_back(o);
    }
    return out;
  });
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

Result<std::vector<core::QueuedTask>> SchedulerStore::pendingTasks(int limit) {
  using Out = std::vector<core::QueuedTask>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    auto rows = w.exec_params(R"sql(
      SELECT t.id, j.owner, (j.spec->'resources'->>'cores')::int,
             (j.spec->'resources'->>'memory_mb')::bigint, (j.spec->'resources'->>'gpus')::int,
             (j.spec->'resources'->>'disk_mb')::bigint, j.max_price, j.min_reputation,
             t.job_id, (extract(epoch FROM j.created_at) * 1000)::bigint
      FROM scheduler.tasks t JOIN scheduler.jobs j ON j.id = t.job_id
      WHERE t.state = 'pending' AND j.state IN ('queued', 'running')
      ORDER BY j.created_at, t.index
      LIMIT $1)sql",
                              limit);
    Out out;
    for (const auto& r : rows) {
      core::QueuedTask q;
      q.task_id = r[0].as<std::string>();
      q.owner = r[1].as<std::string>();
      q.demand.need = {r[2].as<int>(), r[3].as<std::int64_t>(), r[4].as<int>(),
                       r[5].as<std::int64_t>()};
      q.demand.max_price = r[6].as<Micros>();
      q.demand.min_reputation = r[7].as<Micros>();
      q.job_id = r[8].as<std::string>();
      q.enqueued_at_ms = r[9].as<std::int64_t>();
      out.push_back(q);
    }
    return out;
  });
}

Result<std::optional<std::int64_t>> SchedulerStore::acquireLeadership(const std::string& holder,
                                                                      std::int64_t now_ms,
                                                                      std::int64_t ttl_ms) {
  using Out = std::optional<std::int64_t>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::work w(c);
    // Taking over bumps the token (fencing the previous holder's bookings); renewing keeps it.
    auto rows = w.exec_params(
        "INSERT INTO scheduler.leader AS l (id, holder, token, expires_at_ms) "
        "VALUES (1, $1, 1, $2::bigint + $3::bigint) ON CONFLICT (id) DO UPDATE SET "
        "token = CASE WHEN l.holder = $1 THEN l.token ELSE l.token + 1 END, "
        "acquired_at = CASE WHEN l.holder = $1 THEN l.acquired_at ELSE now() END, "
        "holder = $1, expires_at_ms = $2::bigint + $3::bigint "
        "WHERE l.holder = $1 OR l.expires_at_ms <= $2::bigint RETURNING l.token",
        holder, now_ms, ttl_ms);
    w.commit();
    if (rows.empty()) return Out{};
    return Out{rows[0][0].as<std::int64_t>()};
  });
}

Result<std::vector<std::string>> SchedulerStore::commitBookings(
    const std::vector<core::Booking>& bookings, std::int64_t fencing_token) {
  using Out = std::vector<std::string>;
  if (bookings.empty()) return Out{};
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& b : bookings) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("t", b.task_id);
    o->set("w", b.worker_id);
    o->set("p", b.price);
    list->add(o);
  }
  const std::string batch = toJson(list);
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::work w(c);
    // The fence: a leader that took over since holds the row's lock while it bumps the token, and
    // this share lock keeps the token from changing until this batch is committed.
    static const std::string kFence = "leader_fence";
    auto leader = w.exec_prepared(
        prepared(w, kFence, "SELECT token FROM scheduler.leader WHERE id = 1 FOR SHARE"));
    if (leader.empty() || leader[0][0].as<std::int64_t>() != fencing_token) {
      return Error{ErrorCode::kConflict,
                   "fencing token " + std::to_string(fencing_token) +
                       " is not the current leader's; bookings refused",
                   "stale-leader"};
    }
    // The WHERE clause fences the rest: a task booked meanwhile, or a worker lost meanwhile, is
    // simply not booked now.
    static const std::string kBook = "book_tasks";
    auto rows = w.exec_prepared(
        prepared(
            w, kBook,
            "UPDATE scheduler.tasks t SET state = 'leased', attempts = t.attempts + 1, "
            "attempt_id = gen_random_uuid(), worker_id = b.w, price = b.p, delivered = false, "
            "leased_at = now(), started_at = NULL, booked_token = $2 "
            "FROM jsonb_to_recordset($1::jsonb) AS b(t uuid, w uuid, p bigint) "
            "WHERE t.id = b.t AND t.state = 'pending' AND EXISTS (SELECT 1 FROM scheduler.workers "
            "WHERE id = b.w AND state = 'alive') RETURNING t.job_id, t.worker_id"),
        batch, fencing_token);
    std::set<std::string> woken;
    std::set<std::string> jobs;
    for (const auto& r : rows) {
      jobs.insert(r[0].as<std::string>());
      woken.insert(r[1].as<std::string>());
    }
    // A booking can only move a queued job to running (deriveJobState); a running one stays.
    for (const auto& j : jobs) {
      w.exec_params0(
          "UPDATE scheduler.jobs SET state = 'running' WHERE id = $1::uuid AND state = 'queued'",
          j);
    }
    w.commit();
    return Out(woken.begin(), woken.end());
  });
}

Result<std::vector<Assignment>> SchedulerStore::takeAssignments(const std::string& worker_id) {
  using Out = std::vector<Assignment>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    // One statement, so autocommit is as atomic as a transaction and saves two round trips on
    // every lease poll.
    pqxx::nontransaction w(c);
    static const std::string kName = "take_assignments";
    auto rows = w.exec_prepared(prepared(w, kName, R"sql(
      UPDATE scheduler.tasks t SET delivered = true
      FROM scheduler.jobs j
      WHERE t.job_id = j.id AND t.worker_id = $1::uuid AND t.state = 'leased' AND NOT t.delivered
      RETURNING t.id, t.attempt_id, t.job_id, j.owner, j.spec::text, j.output_bucket,
                j.output_prefix, t.frame_first, t.frame_last, t.price, t.index)sql"),
                                worker_id);
    Out out;
    for (const auto& r : rows) {
      Assignment a;
      a.task_id = r[0].as<std::string>();
      a.attempt_id = r[1].as<std::string>();
      a.job_id = r[2].as<std::string>();
      a.owner = r[3].as<std::string>();
      auto spec = specFromRow(r[4].as<std::string>());
      if (!spec.ok()) return internalError("stored spec of job " + a.job_id + " is unreadable");
      a.spec = *spec;
      a.output_bucket = r[5].as<std::string>();
      a.output_prefix = r[6].as<std::string>();
      a.frame_first = r[7].as<int>();
      a.frame_last = r[8].as<int>();
      a.price = r[9].as<Micros>();
      a.index = r[10].as<int>();
      out.push_back(std::move(a));
    }
    w.commit();
    return out;
  });
}

Status SchedulerStore::releaseAssignments(const std::string& worker_id,
                                          const std::vector<std::string>& attempts) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    w.exec_params0(
        "UPDATE scheduler.tasks SET delivered = false WHERE worker_id = $1::uuid "
        "AND state = 'leased' AND attempt_id::text IN "
        "(SELECT jsonb_array_elements_text($2::jsonb))",
        worker_id, jsonList(attempts));
    w.commit();
    return okStatus();
  });
}

Result<TaskRef> SchedulerStore::reportProgress(const std::string& worker_id,
                                               const std::string& task_id,
                                               const std::string& attempt_id, int frames_done,
                                               const std::vector<std::string>& outputs) {
  return pool_.with<TaskRef>([&](pqxx::connection& c) -> Result<TaskRef> {
    pqxx::work w(c);
    auto r = w.exec_params(
        "UPDATE scheduler.tasks SET state = 'running', started_at = COALESCE(started_at, now()), "
        "frames_done = GREATEST(frames_done, $4), outputs = $5::jsonb "
        "WHERE id = $1::uuid AND attempt_id = $2::uuid AND worker_id = $3::uuid "
        "AND state IN ('leased', 'running') RETURNING job_id, index",
        task_id, attempt_id, worker_id, frames_done, jsonList(outputs));
    if (r.empty()) {
      return conflict("attempt " + attempt_id + " of task " + task_id +
                      " is not held by this worker (stale, cancelled or finished)");
    }
    TaskRef ref{r[0][0].as<std::string>(), r[0][1].as<int>()};
    refreshJobState(w, ref.job_id);
    w.commit();
    return ref;
  });
}

Result<CompletionResult> SchedulerStore::completeTask(const Completion& done) {
  return pool_.with<CompletionResult>([&](pqxx::connection& c) -> Result<CompletionResult> {
    pqxx::work w(c);
    static const std::string kName = "complete_select";
    auto rows =
        w.exec_prepared(prepared(w, kName,
                                 "SELECT t.state, t.attempts, t.price, t.job_id, j.owner, "
                                 "(j.spec->>'max_attempts')::int, w.provider, "
                                 "(j.spec->>'timeout_seconds')::bigint, t.index "
                                 "FROM scheduler.tasks t JOIN scheduler.jobs j ON j.id = t.job_id "
                                 "JOIN scheduler.workers w ON w.id = t.worker_id "
                                 "WHERE t.id = $1::uuid AND t.attempt_id = $2::uuid AND "
                                 "t.worker_id = $3::uuid FOR UPDATE "
                                 "OF t"),
                        done.task_id, done.attempt_id, done.worker_id);
    if (rows.empty()) {
      return conflict("attempt " + done.attempt_id + " of task " + done.task_id +
                      " is not held by this worker (stale attempt)");
    }
    auto state = core::parseTaskState(rows[0][0].as<std::string>());
    if (!state.ok()) return state.error();
    const int attempts = rows[0][1].as<int>();
    const Micros price = rows[0][2].as<Micros>();
    const std::string job_id = rows[0][3].as<std::string>();
    const std::string owner = rows[0][4].as<std::string>();
    const int max_attempts = rows[0][5].as<int>();
    const std::string provider = rows[0][6].as<std::string>();
    const std::int64_t timeout_seconds = rows[0][7].as<std::int64_t>();
    const int index = rows[0][8].as<int>();
    CompletionResult out;
    out.task = {job_id, index};
    // The wall time is the provider's claim: never bill past the job's timeout (the escrow was
    // sized for it, and a task running longer is killed anyway).
    out.cost = core::attemptCost(
        price, std::min<std::int64_t>(done.receipt.wall_millis, timeout_seconds * 1000));
    auto charge = [&] {
      // receipt_id is unique: a second completion of one attempt is refused, never paid twice.
      w.exec_params0(
          "INSERT INTO scheduler.outbox (receipt_id, task_id, job_id, payer, payee, amount, "
          "receipt, provider_signature) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, "
          "$7::jsonb, $8)",
          done.attempt_id, done.task_id, job_id, owner, provider, out.cost, done.receipt_json,
          done.receipt_signature);
      out.job_state = refreshJobState(w, job_id);
      w.exec0("NOTIFY dcloud_outbox");
      w.commit();
    };
    if (*state == core::TaskState::kCancelled) {
      // The owner cancelled while this attempt ran: the provider is paid for the work it did
      // until it stopped, once; the task stays cancelled.
      out.task_state = core::taskStateName(*state);
      charge();
      return out;
    }
    auto next = core::nextTaskState(
        *state, done.succeeded ? core::TaskEvent::kSucceeded : core::TaskEvent::kAttemptFailed,
        attempts, max_attempts);
    if (!next.ok()) {
      return conflict("task " + done.task_id + " is " + core::taskStateName(*state) +
                      "; completion refused");
    }
    out.task_state = core::taskStateName(*next);
    const bool back_to_queue = *next == core::TaskState::kPending;
    if (*next == core::TaskState::kSucceeded || *next == core::TaskState::kFailed) {
      // The common case in one statement: finish the task, charge the attempt, wake the ledger
      // adapter, and ask whether the job has other unfinished tasks (the CTEs' writes are not
      // visible to the outer query, hence `id <> task`). While it has, the job stays running
      // (deriveJobState: one finished and one active task), with no need to count all its tasks.
      static const std::string kFinish = "complete_finish";
      auto rows = w.exec_prepared(
          prepared(
              w, kFinish,
              "WITH u AS (UPDATE scheduler.tasks SET state = $2, exit_code = $3, error = $4, "
              "outputs = $5::jsonb, finished_at = now() WHERE id = $1::uuid RETURNING id), "
              "o AS (INSERT INTO scheduler.outbox (receipt_id, task_id, job_id, payer, payee, "
              "amount, "
              "receipt, provider_signature) VALUES ($6::uuid, $1::uuid, $7::uuid, $8, $9, $10, "
              "$11::jsonb, $12) RETURNING id) "
              "SELECT (SELECT COUNT(*) FROM u) + (SELECT COUNT(*) FROM o), "
              "pg_notify('dcloud_outbox', ''), EXISTS (SELECT 1 FROM scheduler.tasks "
              "WHERE job_id = $7::uuid AND id <> $1::uuid AND state IN ('pending', 'leased', "
              "'running'))"),
          done.task_id, out.task_state, done.exit_code, done.error, jsonList(done.outputs),
          done.attempt_id, job_id, owner, provider, out.cost, done.receipt_json,
          done.receipt_signature);
      if (rows.size() != 1)
        return internalError("completion of " + done.task_id + " wrote nothing");
      out.job_state = rows[0][2].as<bool>() ? "running" : refreshJobState(w, job_id);
      w.commit();
      return out;
    }
    w.exec_params0(
        "UPDATE scheduler.tasks SET state = $2, exit_code = $3, error = $4, outputs = $5::jsonb, "
        "finished_at = CASE WHEN $6 THEN NULL ELSE now() END, "
        "worker_id = CASE WHEN $6 THEN NULL ELSE worker_id END, "
        "attempt_id = CASE WHEN $6 THEN NULL ELSE attempt_id END, "
        "delivered = CASE WHEN $6 THEN false ELSE delivered END WHERE id = $1::uuid",
        done.task_id, out.task_state, done.exit_code, done.error, jsonList(done.outputs),
        back_to_queue);
    charge();
    return out;
  });
}

Result<int> SchedulerStore::markWorkerLost(const std::string& worker_id, const std::string& why) {
  auto forget = [&] {
    std::lock_guard lock(workers_mutex_);
    alive_workers_.erase(worker_id);
  };
  forget();
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
        "AND t.state IN ('leased', 'running') RETURNING t.job_id",
        worker_id, why);
    std::set<std::string> jobs;
    for (const auto& r : rows) jobs.insert(r[0].as<std::string>());
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
        "RETURNING t.id, t.job_id",
        worker_id, jsonList(running), static_cast<double>(grace_seconds));
    Out out;
    std::set<std::string> jobs;
    for (const auto& r : rows) {
      out.push_back(r[0].as<std::string>());
      jobs.insert(r[1].as<std::string>());
    }
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

Result<AccountView> SchedulerStore::account(const std::string& id) {
  return pool_.with<AccountView>([&](pqxx::connection& c) -> Result<AccountView> {
    pqxx::read_transaction w(c);
    AccountView a;
    a.id = id;
    auto acc = w.exec_params("SELECT balance, reputation FROM ledger.accounts WHERE id = $1", id);
    if (!acc.empty()) {
      a.balance = acc[0][0].as<Micros>();
      a.reputation = acc[0][1].as<Micros>();
    }
    auto avail = w.exec_params1(kAvailableSql, id);
    a.held = a.balance - avail[0].as<Micros>();
    return a;
  });
}

}  // namespace dcloud::scheduler
