// The store's task side: the ready queue, bookings (compute, backup replicas, preemptions), the
// hand-over to workers, progress and completion (retries with backoff, blocklists, dependents).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "common/json.h"
#include "scheduler/store.h"
#include "scheduler/store_internal.h"

namespace dcloud::scheduler {

using namespace detail;

Result<std::vector<core::QueuedTask>> SchedulerStore::pendingTasks(int limit, std::int64_t now_ms) {
  using Out = std::vector<core::QueuedTask>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    // tasks_ready holds pending tasks that wait for no task; job conditions are one row per job.
    static const std::string kSql = "SELECT t.id, j.owner, " + std::string(kResourceColumns) +
                                    R"sql(, j.max_price, j.min_reputation,
             t.job_id, (extract(epoch FROM j.created_at) * 1000)::bigint, j.priority,
             j.preemptible, COALESCE(j.spec->>'gpu_model', ''),
             COALESCE((j.spec->>'gpu_memory_mb')::bigint, 0),
             COALESCE((j.spec->>'min_gpu_throughput')::bigint, 0),
             COALESCE((j.spec->>'replicas')::int, 0), COALESCE((j.spec->>'capacity_gb')::bigint, 0)
      FROM scheduler.tasks t JOIN scheduler.jobs j ON j.id = t.job_id
      WHERE t.state = 'pending' AND t.blockers = 0 AND t.not_before_ms <= $2
        AND j.state IN ('queued', 'running') AND NOT j.paused AND j.blockers = 0
      ORDER BY j.created_at, t.index
      LIMIT $1)sql";
    auto rows = w.exec_params(kSql, limit, now_ms);
    // Blocklists of active jobs: (job, worker) pairs at the job's limit. Small: one row per
    // worker that failed a job repeatedly.
    auto blocked = w.exec(R"sql(
      SELECT f.job_id::text, f.worker_id::text
      FROM scheduler.job_worker_failures f JOIN scheduler.jobs j ON j.id = f.job_id
      WHERE j.state IN ('queued', 'running')
        AND COALESCE((j.spec->>'blocklist_after')::int, 2) > 0
        AND f.failures >= COALESCE((j.spec->>'blocklist_after')::int, 2))sql");
    std::map<std::string, std::vector<std::string>> excluded;
    for (const auto& r : blocked) {
      excluded[r[0].as<std::string>()].push_back(r[1].as<std::string>());
    }
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      core::QueuedTask q;
      q.task_id = r[0].as<std::string>();
      q.owner = r[1].as<std::string>();
      q.demand.need = resourcesAt(r, 2);
      q.demand.max_price = r[6].as<Micros>();
      q.demand.min_reputation = r[7].as<Micros>();
      q.job_id = r[8].as<std::string>();
      q.enqueued_at_ms = r[9].as<std::int64_t>();
      q.priority = r[10].as<int>();
      q.preemptible = r[11].as<bool>();
      q.demand.gpu_model = r[12].as<std::string>();
      q.demand.gpu_memory_mb = r[13].as<std::int64_t>();
      q.demand.min_gpu_throughput = r[14].as<std::int64_t>();
      q.replicas = r[15].as<int>();
      if (q.replicas > 0) q.demand.need = {0, 0, 0, r[16].as<std::int64_t>() * 1024};
      if (!excluded.empty()) {
        auto it = excluded.find(q.job_id);
        if (it != excluded.end()) q.demand.excluded_workers = it->second;
      }
      out.push_back(std::move(q));
    }
    return out;
  });
}

Result<std::vector<core::RunningTask>> SchedulerStore::preemptibleTasks(int below) {
  using Out = std::vector<core::RunningTask>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    pqxx::read_transaction w(c);
    static const std::string kSql =
        "SELECT t.id, t.worker_id, j.priority, " + std::string(kResourceColumns) + R"sql(
      FROM scheduler.jobs j JOIN scheduler.tasks t ON t.job_id = j.id
      WHERE j.preemptible AND j.state IN ('queued', 'running') AND j.priority < $1
        AND t.state IN ('leased', 'running'))sql";
    auto rows = w.exec_params(kSql, below);
    Out out;
    for (const auto& r : rows) {
      core::RunningTask t;
      t.task_id = r[0].as<std::string>();
      t.worker_id = r[1].as<std::string>();
      t.priority = r[2].as<int>();
      t.preemptible = true;
      t.need = resourcesAt(r, 3);
      out.push_back(t);
    }
    return out;
  });
}

namespace {

Error staleLeader(std::int64_t fencing_token) {
  return Error{ErrorCode::kConflict,
               "fencing token " + std::to_string(fencing_token) +
                   " is not the current leader's; bookings refused",
               "stale-leader"};
}

// What a worker is handed for a leased task row `t` of job `j`, and those columns read back from
// position `first`.
constexpr const char* kAssignmentColumns =
    "t.id, t.attempt_id, t.job_id, j.owner, j.spec::text, j.output_bucket, j.output_prefix, "
    "t.frame_first, t.frame_last, t.price, t.index";

Result<Assignment> assignmentFromRow(const pqxx::row& r, int first) {
  Assignment a;
  a.task_id = r[first].as<std::string>();
  a.attempt_id = r[first + 1].as<std::string>();
  a.job_id = r[first + 2].as<std::string>();
  a.owner = r[first + 3].as<std::string>();
  auto spec = specFromRow(r[first + 4].as<std::string>());
  if (!spec.ok()) return internalError("stored spec of job " + a.job_id + " is unreadable");
  a.spec = std::move(*spec);
  a.output_bucket = r[first + 5].as<std::string>();
  a.output_prefix = r[first + 6].as<std::string>();
  a.frame_first = r[first + 7].as<int>();
  a.frame_last = r[first + 8].as<int>();
  a.price = r[first + 9].as<Micros>();
  a.index = r[first + 10].as<int>();
  return a;
}

Status checkFence(pqxx::work& w, std::int64_t fencing_token) {
  // The fence: a leader that took over since holds the row's lock while it bumps the token, and
  // this share lock keeps the token from changing until this batch is committed.
  static const std::string kFence = "leader_fence";
  auto leader = w.exec_prepared(
      prepared(w, kFence, "SELECT token FROM scheduler.leader WHERE id = 1 FOR SHARE"));
  if (leader.empty() || leader[0][0].as<std::int64_t>() != fencing_token) {
    return staleLeader(fencing_token);
  }
  return okStatus();
}

std::string bookingList(const std::vector<core::Booking>& bookings, bool replicas) {
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& b : bookings) {
    if (b.replica != replicas) continue;
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("t", b.task_id);
    o->set("w", b.worker_id);
    o->set("p", b.price);
    list->add(o);
  }
  return list->size() == 0 ? "" : toJson(list);
}

// Records a backup's replicas; the task succeeds when all of them are placed, else nothing stays.
std::set<std::string> placeReplicas(pqxx::transaction_base& w, const std::string& batch,
                                    std::int64_t now_ms) {
  std::set<std::string> jobs;
  auto rows = w.exec_params(
      // RETURNING sees only the inserted row, so the job's replica count is joined after it.
      "WITH ins AS (INSERT INTO scheduler.placements (job_id, task_id, worker_id, provider, "
      "capacity_mb, price_gb_month, expires_at) "
      "SELECT t.job_id, t.id, wk.id, wk.provider, (j.spec->>'capacity_gb')::bigint * 1024, b.p, "
      "CASE WHEN $2::bigint > 0 THEN to_timestamp($2::bigint / 1000.0) ELSE now() END "
      "+ make_interval(days => (j.spec->>'duration_days')::int) "
      "FROM jsonb_to_recordset($1::jsonb) AS b(t uuid, w uuid, p bigint) "
      "JOIN scheduler.tasks t ON t.id = b.t JOIN scheduler.jobs j ON j.id = t.job_id "
      "JOIN scheduler.workers wk ON wk.id = b.w AND wk.state = 'alive' "
      "WHERE t.state = 'pending' AND NOT j.paused AND j.state IN ('queued', 'running') "
      "ON CONFLICT (task_id, provider) DO NOTHING RETURNING task_id, job_id) "
      "SELECT ins.task_id::text, ins.job_id::text, (j.spec->>'replicas')::int "
      "FROM ins JOIN scheduler.jobs j ON j.id = ins.job_id",
      batch, now_ms);
  std::map<std::string, std::pair<int, int>> placed;  // task -> (placed, wanted)
  std::map<std::string, std::string> job_of;
  for (const auto& r : rows) {
    auto& p = placed[r[0].as<std::string>()];
    ++p.first;
    p.second = r[2].as<int>();
    job_of[r[0].as<std::string>()] = r[1].as<std::string>();
  }
  for (const auto& [task, p] : placed) {
    if (p.first < p.second) {
      // A worker died or the plan was stale: place it whole in a later round.
      w.exec_params0("DELETE FROM scheduler.placements WHERE task_id = $1::uuid", task);
      continue;
    }
    w.exec_params0(
        "UPDATE scheduler.tasks SET state = 'succeeded', attempts = 1, finished_at = now(), "
        "leased_at = now() WHERE id = $1::uuid",
        task);
    jobs.insert(job_of[task]);
  }
  return jobs;
}

}  // namespace

Result<BookedBatch> SchedulerStore::book(pqxx::transaction_base& w,
                                         const std::vector<core::Booking>& bookings,
                                         std::int64_t fencing_token, std::int64_t now_ms,
                                         const std::unordered_set<std::string>& by_hand) {
  BookedBatch out;
  std::set<std::string> woken;
  std::vector<std::string> tasks, workers, prices, delivered;
  for (const auto& b : bookings) {
    if (b.replica) continue;
    tasks.push_back(b.task_id);
    workers.push_back(b.worker_id);
    prices.push_back(std::to_string(b.price));
    delivered.push_back(by_hand.count(b.worker_id) ? "t" : "f");
  }
  if (!tasks.empty()) {
    // One statement: the leader fence, the bookings and their jobs turned running. The WHERE
    // clause fences the rest: a task booked meanwhile, its job paused meanwhile, a task or job
    // that waits again for a requeued dependency, or a worker lost meanwhile, is simply not
    // booked now. Tasks are found by primary key (`= ANY`), never by scanning the ready queue,
    // whatever the statistics say. Rows for a worker whose poll waits in this process are
    // delivered by hand, so they come back whole and are marked delivered here.
    static const std::string kBook = "book_tasks_v4";
    static const std::string kBookSql = R"sql(
      WITH fence AS MATERIALIZED (
        SELECT 1 FROM scheduler.leader WHERE id = 1 AND token = $2 FOR SHARE),
      b AS (SELECT * FROM unnest($1::uuid[], $3::uuid[], $4::bigint[], $5::bool[]) AS b(t, w, p, d)),
      booked AS (
        UPDATE scheduler.tasks t SET state = 'leased', attempts = t.attempts + 1,
          attempt_id = gen_random_uuid(), worker_id = b.w, price = b.p, delivered = b.d,
          leased_at = now(), started_at = NULL, booked_token = $2
        FROM b, scheduler.jobs j
        WHERE t.id = ANY($1::uuid[]) AND t.id = b.t AND j.id = t.job_id AND NOT j.paused
          AND t.state = 'pending' AND t.blockers = 0 AND j.blockers = 0
          AND EXISTS (SELECT 1 FROM fence)
          AND EXISTS (SELECT 1 FROM scheduler.workers WHERE id = b.w AND state = 'alive')
        RETURNING t.job_id AS booked_job, t.worker_id, t.attempt_id, )sql" +
                                        std::string(kResourceColumns) + R"sql(, b.d, )sql" +
                                        std::string(kAssignmentColumns) + R"sql(),
      running AS (
        UPDATE scheduler.jobs SET state = 'running', wait_reason = ''
        WHERE id IN (SELECT booked_job FROM booked) AND (state = 'queued' OR wait_reason <> ''))
      SELECT (SELECT COUNT(*) FROM fence), booked.* FROM (SELECT 1) one LEFT JOIN booked ON true)sql";
    auto rows =
        w.exec_prepared(prepared(w, kBook, kBookSql.c_str()), pgTextArray(tasks), fencing_token,
                        pgTextArray(workers), pgTextArray(prices), pgTextArray(delivered));
    if (rows.empty() || rows[0][0].as<int>() == 0) return staleLeader(fencing_token);
    for (const auto& r : rows) {
      if (r[1].is_null()) continue;  // nothing booked: the one row of the outer join
      const std::string worker = r[2].as<std::string>();
      out.attempts.push_back({r[3].as<std::string>(), worker, resourcesAt(r, 4)});
      if (r[8].as<bool>()) {
        auto a = assignmentFromRow(r, 9);
        if (!a.ok()) return a.error();
        out.handed[worker].push_back(std::move(*a));
      } else {
        woken.insert(worker);
      }
    }
  }
  const std::string replicas = bookingList(bookings, true);
  if (!replicas.empty()) {
    out.placed_replicas = true;
    for (const auto& j : placeReplicas(w, replicas, now_ms)) refreshJobState(w, j);
  }
  out.woken.assign(woken.begin(), woken.end());
  return out;
}

Result<BookedBatch> SchedulerStore::commitBookings(const std::vector<core::Booking>& bookings,
                                                   std::int64_t fencing_token, std::int64_t now_ms,
                                                   const std::unordered_set<std::string>& by_hand) {
  if (bookings.empty()) return BookedBatch{};
  const bool replicas = std::any_of(bookings.begin(), bookings.end(),
                                    [](const core::Booking& b) { return b.replica; });
  return pool_.with<BookedBatch>([&](pqxx::connection& c) -> Result<BookedBatch> {
    if (!replicas) {
      // Compute bookings are one statement, atomic on its own: one round trip, no BEGIN/COMMIT.
      pqxx::nontransaction w(c);
      return book(w, bookings, fencing_token, now_ms, by_hand);
    }
    pqxx::work w(c);
    DCLOUD_TRY(checkFence(w, fencing_token));
    auto booked = book(w, bookings, fencing_token, now_ms, by_hand);
    if (!booked.ok()) return booked.error();
    w.commit();
    return booked;
  });
}

Result<BookedBatch> SchedulerStore::commitPreemptions(const std::vector<core::Preemption>& plan,
                                                      std::int64_t fencing_token) {
  if (plan.empty()) return BookedBatch{};
  std::vector<std::string> victims;
  std::vector<core::Booking> bookings;
  for (const auto& p : plan) {
    victims.insert(victims.end(), p.victims.begin(), p.victims.end());
    bookings.push_back(p.booking);
  }
  return pool_.with<BookedBatch>([&](pqxx::connection& c) -> Result<BookedBatch> {
    pqxx::work w(c);
    DCLOUD_TRY(checkFence(w, fencing_token));
    // Like a lost lease, but the attempt is not the task's fault: it does not count. The worker
    // learns through its heartbeat that the attempt no longer holds the task; what it still
    // reports is billed once (fenced_attempts).
    auto rows = w.exec_params(
        "WITH o AS (SELECT id, attempt_id, worker_id, price FROM scheduler.tasks "
        "  WHERE id::text IN (SELECT jsonb_array_elements_text($1::jsonb)) "
        "  AND state IN ('leased', 'running') FOR UPDATE), "
        "f AS (INSERT INTO scheduler.fenced_attempts (attempt_id, task_id, worker_id, price, why) "
        "  SELECT attempt_id, id, worker_id, COALESCE(price, 0), 'preempted' FROM o "
        "  ON CONFLICT DO NOTHING) "
        "UPDATE scheduler.tasks t SET state = 'pending', attempts = GREATEST(t.attempts - 1, 0), "
        "attempt_id = NULL, worker_id = NULL, delivered = false, not_before_ms = 0, "
        "error = 'preempted by a higher-priority job; requeued' FROM o WHERE t.id = o.id "
        "RETURNING t.job_id::text",
        jsonList(victims));
    std::set<std::string> jobs;
    for (const auto& r : rows) jobs.insert(r[0].as<std::string>());
    // Preemption books compute tasks only: no placement, no expiry.
    auto booked = book(w, bookings, fencing_token, 0, {});
    if (!booked.ok()) return booked.error();
    for (const auto& j : jobs) refreshJobState(w, j);
    w.commit();
    return booked;
  });
}
Status SchedulerStore::noteBlocklisted(const std::vector<std::string>& blocked,
                                       const std::vector<std::string>& cleared) {
  if (blocked.empty() && cleared.empty()) return okStatus();
  return pool_.withStatus([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    if (!blocked.empty()) {
      w.exec_params0(
          "UPDATE scheduler.jobs SET wait_reason = 'every fitting worker is blocklisted for this "
          "job after ' || COALESCE((spec->>'blocklist_after')::int, 2) || ' failure(s)' "
          "WHERE id::text IN (SELECT jsonb_array_elements_text($1::jsonb)) "
          "AND state IN ('queued', 'running')",
          jsonList(blocked));
    }
    if (!cleared.empty()) {
      w.exec_params0(
          "UPDATE scheduler.jobs SET wait_reason = '' WHERE id::text IN "
          "(SELECT jsonb_array_elements_text($1::jsonb)) "
          "AND wait_reason LIKE 'every fitting worker is blocklisted%'",
          jsonList(cleared));
    }
    w.commit();
    return okStatus();
  });
}

Result<std::vector<Assignment>> SchedulerStore::takeAssignments(const std::string& worker_id) {
  using Out = std::vector<Assignment>;
  return pool_.with<Out>([&](pqxx::connection& c) -> Result<Out> {
    // One statement, so autocommit is as atomic as a transaction and saves two round trips on
    // every lease poll.
    pqxx::nontransaction w(c);
    static const std::string kName = "take_assignments";
    static const std::string kSql = R"sql(
      UPDATE scheduler.tasks t SET delivered = true
      FROM scheduler.jobs j
      WHERE t.job_id = j.id AND t.worker_id = $1::uuid AND t.state = 'leased' AND NOT t.delivered
      RETURNING )sql" + std::string(kAssignmentColumns);
    auto rows = w.exec_prepared(prepared(w, kName, kSql.c_str()), worker_id);
    Out out;
    for (const auto& r : rows) {
      auto a = assignmentFromRow(r, 0);
      if (!a.ok()) return a.error();
      out.push_back(std::move(*a));
    }
    w.commit();
    return out;
  });
}

Status SchedulerStore::releaseAssignments(const std::string& worker_id,
                                          const std::vector<Assignment>& tasks) {
  if (tasks.empty()) return okStatus();
  std::vector<std::string> attempts;
  for (const auto& a : tasks) attempts.push_back(a.attempt_id);
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

}  // namespace dcloud::scheduler
