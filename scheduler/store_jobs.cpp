// The store's job side: submit (with escrow, the per-owner queue cap and dependencies), views,
// cancel, pause and resume, requeue of one task.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <map>
#include <set>

#include "common/json.h"
#include "scheduler/core/dependencies.h"
#include "scheduler/store.h"
#include "scheduler/store_internal.h"

namespace dcloud::scheduler {

using namespace detail;

namespace {

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
  j.paused = r["paused"].as<bool>();
  j.priority = r["priority"].as<int>();
  j.preemptible = r["preemptible"].as<bool>();
  j.blockers = r["blockers"].as<int>();
  j.wait_reason = r["wait_reason"].as<std::string>();
  return j;
}

// The jobs' columns with their tasks' counts and costs, for the jobs selected by the `sel` CTE
// that the caller puts in front. The counts come from one index scan per job, and the outbox
// (which has no job index) is scanned once for all selected jobs rather than twice per job.
constexpr const char* kJobColumns = R"sql(
  , c AS (SELECT t.job_id,
                 COUNT(*) FILTER (WHERE t.state = 'pending') AS n_pending,
                 COUNT(*) FILTER (WHERE t.state = 'leased') AS n_leased,
                 COUNT(*) FILTER (WHERE t.state = 'running') AS n_running,
                 COUNT(*) FILTER (WHERE t.state = 'succeeded') AS n_succeeded,
                 COUNT(*) FILTER (WHERE t.state = 'failed') AS n_failed,
                 COUNT(*) FILTER (WHERE t.state = 'cancelled') AS n_cancelled
          FROM scheduler.tasks t WHERE t.job_id IN (SELECT id FROM sel) GROUP BY t.job_id),
  o AS (SELECT o.job_id, SUM(o.amount) AS cost,
               SUM(o.amount) FILTER (WHERE o.settled_at IS NOT NULL) AS settled
        FROM scheduler.outbox o WHERE o.job_id IN (SELECT id FROM sel) GROUP BY o.job_id)
  SELECT j.id, j.owner, j.kind, j.name, j.state, j.max_price, j.min_reputation, j.output_bucket,
         j.output_prefix, j.task_count,
         to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
         to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
         j.spec::text AS spec, j.paused, j.priority, j.preemptible, j.blockers, j.wait_reason,
         COALESCE(c.n_pending, 0) AS n_pending, COALESCE(c.n_leased, 0) AS n_leased,
         COALESCE(c.n_running, 0) AS n_running, COALESCE(c.n_succeeded, 0) AS n_succeeded,
         COALESCE(c.n_failed, 0) AS n_failed, COALESCE(c.n_cancelled, 0) AS n_cancelled,
         COALESCE(o.cost, 0) AS cost, COALESCE(o.settled, 0) AS settled
  FROM sel j LEFT JOIN c ON c.job_id = j.id LEFT JOIN o ON o.job_id = j.id
)sql";

// Jobs with at most this many tasks insert them inline with the job; larger ones use COPY.
constexpr std::size_t kInlineTasks = 256;

Error paymentRequired(Micros available, Micros needed, const std::string& what) {
  return Error{ErrorCode::kPaymentRequired,
               "balance available " + formatMicros(available) + " does not cover " + what + " " +
                   formatMicros(needed) + " (tasks x attempts x max price x timeout)",
               "insufficient-funds"};
}

// The jobs the new one waits for (after and task_after): each must be the owner's, and not
// failed or cancelled. Their dependency closure must stay acyclic with the new job in it.
Status checkDependencies(pqxx::work& w, const NewJob& job) {
  std::set<std::string> targets(job.spec.after.begin(), job.spec.after.end());
  for (const auto& t : job.spec.task_after) targets.insert(t.job_id);
  if (targets.empty()) return okStatus();
  std::vector<std::string> ids(targets.begin(), targets.end());
  auto rows = w.exec_params(
      "SELECT id::text, state, task_count FROM scheduler.jobs WHERE owner = $2 AND id::text IN "
      "(SELECT jsonb_array_elements_text($1::jsonb)) FOR SHARE",
      jsonList(ids), job.owner);
  std::map<std::string, std::pair<std::string, int>> found;
  for (const auto& r : rows) {
    found[r[0].as<std::string>()] = {r[1].as<std::string>(), r[2].as<int>()};
  }
  for (const auto& id : ids) {
    auto it = found.find(id);
    // Another owner's job reads as unknown: its existence is not the submitter's business.
    if (it == found.end()) return invalidArgument("dependency: no job " + id + " of yours");
    if (it->second.first == "failed" || it->second.first == "cancelled") {
      return invalidArgument("dependency: job " + id + " " + it->second.first +
                             "; nothing can run after it");
    }
  }
  for (const auto& t : job.spec.task_after) {
    if (t.task >= found[t.job_id].second) {
      return invalidArgument("task_after: job " + t.job_id + " has no task " +
                             std::to_string(t.task));
    }
  }
  // The closure of what the targets wait for, plus the new job: a cycle would wait forever.
  core::DependencyGraph graph;
  graph[job.id] = ids;
  auto closure = w.exec_params(
      "WITH RECURSIVE r(job_id, after_job_id) AS ("
      "  SELECT job_id, after_job_id FROM scheduler.job_deps WHERE job_id::text IN "
      "    (SELECT jsonb_array_elements_text($1::jsonb)) "
      "  UNION SELECT d.job_id, d.after_job_id FROM scheduler.job_deps d "
      "    JOIN r ON d.job_id = r.after_job_id) "
      "SELECT job_id::text, after_job_id::text FROM r LIMIT 100000",
      jsonList(ids));
  for (const auto& r : closure) {
    graph[r[0].as<std::string>()].push_back(r[1].as<std::string>());
  }
  auto cycle = core::findDependencyCycle(graph);
  if (!cycle.empty()) {
    return invalidArgument("dependency cycle: " + core::describeCycle(cycle));
  }
  return okStatus();
}

// Rows for the new job's dependencies, and what each of its tasks waits for.
Status insertDependencies(pqxx::work& w, const NewJob& job) {
  if (job.spec.after.empty() && job.spec.task_after.empty()) return okStatus();
  if (!job.spec.after.empty()) {
    w.exec_params0(
        "INSERT INTO scheduler.job_deps (job_id, after_job_id) SELECT $1::uuid, a::uuid "
        "FROM jsonb_array_elements_text($2::jsonb) a",
        job.id, jsonList(job.spec.after));
    w.exec_params0(
        "UPDATE scheduler.jobs SET blockers = (SELECT COUNT(*) FROM scheduler.job_deps x "
        "JOIN scheduler.jobs a ON a.id = x.after_job_id WHERE x.job_id = $1::uuid "
        "AND a.state <> 'succeeded') WHERE id = $1::uuid",
        job.id);
  }
  for (const auto& t : job.spec.task_after) {
    // Frame by frame (task i after task i) or every task after one task.
    w.exec_params0(
        "INSERT INTO scheduler.task_deps (task_id, after_task_id) "
        "SELECT b.id, a.id FROM scheduler.tasks b JOIN scheduler.tasks a "
        "ON a.job_id = $2::uuid AND a.index = CASE WHEN $3 < 0 THEN b.index ELSE $3 END "
        "WHERE b.job_id = $1::uuid ON CONFLICT DO NOTHING",
        job.id, t.job_id, t.task);
  }
  if (!job.spec.task_after.empty()) {
    auto ended = w.exec_params(
        "SELECT a.index, a.job_id::text, a.state FROM scheduler.task_deps x "
        "JOIN scheduler.tasks b ON b.id = x.task_id JOIN scheduler.tasks a ON a.id = "
        "x.after_task_id WHERE b.job_id = $1::uuid AND a.state IN ('failed', 'cancelled') "
        "LIMIT 1",
        job.id);
    if (!ended.empty()) {
      return invalidArgument("task_after: task " + ended[0][0].as<std::string>() + " of job " +
                             ended[0][1].as<std::string>() + " " + ended[0][2].as<std::string>() +
                             "; nothing can run after it");
    }
    w.exec_params0(
        "UPDATE scheduler.tasks b SET blockers = (SELECT COUNT(*) FROM scheduler.task_deps x "
        "JOIN scheduler.tasks a ON a.id = x.after_task_id WHERE x.task_id = b.id "
        "AND a.state <> 'succeeded') WHERE b.job_id = $1::uuid",
        job.id);
  }
  std::vector<std::string> targets = job.spec.after;
  for (const auto& t : job.spec.task_after) targets.push_back(t.job_id);
  w.exec_params0(
      "UPDATE scheduler.jobs SET has_dependents = true WHERE id::text IN "
      "(SELECT jsonb_array_elements_text($1::jsonb)) AND NOT has_dependents",
      jsonList(targets));
  return okStatus();
}

}  // namespace

Status SchedulerStore::createJob(const NewJob& job, std::string* created_at) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    // Serialize submissions of one owner so two jobs cannot both spend the same balance. The
    // checks below run in statements after it, so their snapshots see every earlier submit.
    static const std::string kLock = "owner_lock";
    w.exec_prepared(prepared(w, kLock, "SELECT pg_advisory_xact_lock(hashtext($1))"), job.owner);
    // The balance check and the queue cap in one round trip.
    static const std::string kChecks = "submit_checks";
    static const std::string kChecksSql =
        "SELECT a.*, (SELECT COALESCE(SUM(task_count), 0) FROM scheduler.jobs "
        "WHERE owner = $1 AND state IN ('queued', 'running')) FROM (" +
        std::string(kAvailableSql) + ") a";
    auto checks = w.exec_prepared1(prepared(w, kChecks, kChecksSql.c_str()), job.owner);
    if (job.max_queued_tasks > 0) {
      const std::int64_t have = checks[2].as<std::int64_t>();
      if (have + static_cast<std::int64_t>(job.tasks.size()) > job.max_queued_tasks) {
        return Error{ErrorCode::kResourceExhausted,
                     "your unfinished jobs hold " + std::to_string(have) + " task(s); at most " +
                         std::to_string(job.max_queued_tasks) +
                         " may be queued per owner: wait for some to finish",
                     "queue-full"};
      }
    }
    const Micros available = checks[0].as<Micros>();
    if (available < job.hold) return paymentRequired(available, job.hold, "the job's escrow");
    DCLOUD_TRY(checkDependencies(w, job));
    // Small jobs (the common one-task job) go in with their tasks in one statement; large ones
    // stream their tasks with COPY.
    const bool small = job.tasks.size() <= kInlineTasks;
    std::string task_rows = "[";
    if (small) {
      for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        const auto& t = job.tasks[i];
        if (i > 0) task_rows += ',';
        task_rows += "{\"id\":\"" + job.task_ids[i] + "\",\"i\":" + std::to_string(t.index) +
                     ",\"f\":" + std::to_string(t.frame_first) +
                     ",\"l\":" + std::to_string(t.frame_last) + '}';
      }
    }
    task_rows += ']';
    static const std::string kInsert = "create_job";
    auto inserted = w.exec_prepared1(
        prepared(w, kInsert,
                 "WITH j AS (INSERT INTO scheduler.jobs (id, owner, kind, name, spec, state, "
                 "max_price, min_reputation, output_bucket, output_prefix, task_count, hold, "
                 "priority, preemptible, wait_reason) VALUES ($1::uuid, $2, $3, $4, $5::jsonb, "
                 "'queued', $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING created_at), "
                 "t AS (INSERT INTO scheduler.tasks (id, job_id, index, frame_first, frame_last, "
                 "state) SELECT x.id, $1::uuid, x.i, x.f, x.l, 'pending' "
                 "FROM jsonb_to_recordset($15::jsonb) AS x(id uuid, i int, f int, l int)) "
                 "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                 "FROM j"),
        job.id, job.owner, std::string(core::jobKindName(job.spec.kind)), job.spec.name,
        job.spec_json, job.spec.max_price, job.spec.min_reputation, job.output_bucket,
        job.output_prefix, static_cast<int>(job.tasks.size()), job.hold, job.spec.priority,
        job.spec.preemptible, job.wait_reason, task_rows);
    if (!small) {
      pqxx::stream_to stream(
          w, "scheduler.tasks",
          std::vector<std::string>{"id", "job_id", "index", "frame_first", "frame_last", "state"});
      for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        const auto& t = job.tasks[i];
        stream << std::make_tuple(job.task_ids[i], job.id, t.index, t.frame_first, t.frame_last,
                                  std::string("pending"));
      }
      stream.complete();
    }
    DCLOUD_TRY(insertDependencies(w, job));
    w.commit();
    if (created_at) *created_at = inserted[0].as<std::string>();
    return okStatus();
  });
}

Result<std::vector<JobView>> SchedulerStore::listJobs(const std::string& owner, int limit,
                                                      bool active_only) {
  return pool_.with<std::vector<JobView>>([&](pqxx::connection& c) -> Result<std::vector<JobView>> {
    pqxx::read_transaction w(c);
    static const std::string kName = "list_jobs_v2";
    static const std::string kSql =
        "WITH sel AS (SELECT * FROM scheduler.jobs WHERE owner = $1 AND (NOT $3 OR state IN "
        "('queued', 'running')) ORDER BY created_at DESC LIMIT $2)" +
        std::string(kJobColumns) + " ORDER BY j.created_at DESC";
    auto rows = w.exec_prepared(prepared(w, kName, kSql.c_str()), owner, limit, active_only);
    std::vector<JobView> out;
    for (const auto& r : rows) out.push_back(jobFromRow(r));
    return out;
  });
}

Result<JobView> SchedulerStore::getJob(const std::string& owner, const std::string& job_id) {
  return pool_.with<JobView>([&](pqxx::connection& c) -> Result<JobView> {
    pqxx::read_transaction w(c);
    static const std::string kName = "get_job";
    static const std::string kSql =
        "WITH sel AS (SELECT * FROM scheduler.jobs WHERE id = $1::uuid AND owner = $2)" +
        std::string(kJobColumns);
    auto rows = w.exec_prepared(prepared(w, kName, kSql.c_str()), job_id, owner);
    if (rows.empty()) return notFound("no job " + job_id);
    JobView j = jobFromRow(rows[0]);
    // The outbox is aggregated once for the job (it has no task index): a scan per task of a
    // large job would read it thousands of times.
    static const std::string kTasks = "get_job_tasks";
    auto tasks = w.exec_prepared(
        prepared(w, kTasks,
                 "WITH o AS (SELECT task_id, SUM(amount) AS cost, "
                 "bool_and(settled_at IS NOT NULL) AS settled FROM scheduler.outbox "
                 "WHERE job_id = $1::uuid GROUP BY task_id) "
                 "SELECT t.id, t.index, t.frame_first, t.frame_last, t.state, t.attempts, "
                 "COALESCE(t.worker_id::text, ''), t.price, t.frames_done, t.outputs::text, "
                 "t.exit_code, t.error, o.cost, COALESCE(o.settled, false), t.not_before_ms, "
                 "t.blockers FROM scheduler.tasks t LEFT JOIN o ON o.task_id = t.id "
                 "WHERE t.job_id = $1::uuid ORDER BY t.index"),
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
      t.not_before_ms = r[14].as<std::int64_t>();
      t.blockers = r[15].as<int>();
      j.tasks.push_back(std::move(t));
    }
    if (j.kind == "backup") {
      auto placements = w.exec_params(
          "SELECT worker_id::text, provider, capacity_mb, price_gb_month, "
          "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
          "COALESCE(to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') "
          "FROM scheduler.placements WHERE job_id = $1::uuid ORDER BY id",
          job_id);
      for (const auto& r : placements) {
        j.placements.push_back({r[0].as<std::string>(), r[1].as<std::string>(),
                                r[2].as<std::int64_t>(), r[3].as<Micros>(), r[4].as<std::string>(),
                                r[5].as<std::string>()});
      }
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

Status SchedulerStore::setPaused(const std::string& owner, const std::string& job_id, bool paused) {
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    auto job = w.exec_params(
        "SELECT state FROM scheduler.jobs WHERE id = $1::uuid AND owner = $2 FOR UPDATE", job_id,
        owner);
    if (job.empty()) return notFound("no job " + job_id);
    const std::string state = job[0][0].as<std::string>();
    if (state != "queued" && state != "running") {
      return failedPrecondition("job " + job_id + " is " + state + "; only unfinished jobs " +
                                (paused ? "pause" : "resume"));
    }
    w.exec_params0("UPDATE scheduler.jobs SET paused = $2 WHERE id = $1::uuid", job_id, paused);
    w.commit();
    return okStatus();
  });
}

Result<std::string> SchedulerStore::requeueTask(const std::string& owner, const std::string& job_id,
                                                int index) {
  return pool_.with<std::string>([&](pqxx::connection& c) -> Result<std::string> {
    pqxx::work w(c);
    w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", owner);
    auto job = w.exec_params(
        "SELECT spec::text, state, hold, has_dependents FROM scheduler.jobs WHERE id = $1::uuid "
        "AND owner = $2 FOR UPDATE",
        job_id, owner);
    if (job.empty()) return notFound("no job " + job_id);
    auto spec = specFromRow(job[0][0].as<std::string>());
    if (!spec.ok()) return internalError("stored spec of job " + job_id + " is unreadable");
    if (spec->kind == core::JobKind::kBackup) {
      return failedPrecondition("backup jobs are placed once; submit a new backup instead");
    }
    auto task = w.exec_params(
        "SELECT id::text, state, COALESCE(attempt_id::text, ''), COALESCE(worker_id::text, ''), "
        "COALESCE(price, 0) FROM scheduler.tasks WHERE job_id = $1::uuid AND index = $2 "
        "FOR UPDATE",
        job_id, index);
    if (task.empty()) return notFound("job " + job_id + " has no task " + std::to_string(index));
    const std::string task_id = task[0][0].as<std::string>();
    const std::string state = task[0][1].as<std::string>();
    if (state == "pending") {
      return failedPrecondition("task " + std::to_string(index) + " is pending already");
    }
    // A fresh attempt budget needs fresh escrow, under the same check as a submit.
    // A finished job's escrow was released: running again holds all of it once more.
    const std::string job_state = job[0][1].as<std::string>();
    const Micros extra = core::jobHold(*spec, 1);
    const Micros needed =
        extra + (job_state == "queued" || job_state == "running" ? 0 : job[0][2].as<Micros>());
    const Micros available = w.exec_params1(kAvailableSql, owner)[0].as<Micros>();
    if (available < needed) {
      return paymentRequired(available, needed, "the requeued task's escrow");
    }
    std::string fenced;
    if (state == "leased" || state == "running") {
      fenced = task[0][2].as<std::string>();
      w.exec_params0(
          "INSERT INTO scheduler.fenced_attempts (attempt_id, task_id, worker_id, price, why) "
          "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, 'requeued by the owner') "
          "ON CONFLICT DO NOTHING",
          fenced, task_id, task[0][3].as<std::string>(), task[0][4].as<Micros>());
    }
    w.exec_params0(
        "UPDATE scheduler.tasks SET state = 'pending', attempts = 0, attempt_id = NULL, "
        "worker_id = NULL, price = NULL, delivered = false, leased_at = NULL, started_at = NULL, "
        "finished_at = NULL, frames_done = 0, outputs = '[]', exit_code = NULL, error = '', "
        "not_before_ms = 0 WHERE id = $1::uuid",
        task_id);
    // Tasks after this one that are not booked yet wait for it again (a succeeded task's pending
    // dependents were ready); those running or finished are left alone.
    if (state == "succeeded" && job[0][3].as<bool>()) recountTaskDependents(w, task_id);
    w.exec_params0("UPDATE scheduler.jobs SET hold = hold + $2 WHERE id = $1::uuid", job_id, extra);
    refreshJobState(w, job_id);
    w.commit();
    return fenced;
  });
}

}  // namespace dcloud::scheduler
