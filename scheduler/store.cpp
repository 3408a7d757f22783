// The store's shared helpers (job state, dependency propagation), the leader lease and accounts.
// Jobs are in store_jobs.cpp, tasks in store_tasks.cpp, workers in store_workers.cpp.
#include "scheduler/store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <mutex>
#include <set>
#include <unordered_map>

#include "common/json.h"
#include "scheduler/store_internal.h"

namespace dcloud::scheduler {

// Defined in job_json.cpp; declared here to keep the store free of the API's JSON shapes.
Result<core::JobSpec> parseStoredSpec(const std::string& spec_json);

namespace detail {

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

const char* const kAvailableSql = R"sql(
  SELECT COALESCE((SELECT balance FROM ledger.accounts WHERE id = $1), 0)
       - COALESCE((SELECT SUM(hold) FROM scheduler.jobs
                   WHERE owner = $1 AND state IN ('queued', 'running')), 0)
       - COALESCE((SELECT SUM(o.amount) FROM scheduler.outbox o JOIN scheduler.jobs j ON j.id = o.job_id
                   WHERE o.payer = $1 AND o.settled_at IS NULL
                     AND j.state NOT IN ('queued', 'running')), 0),
         COALESCE((SELECT SUM(hold) FROM scheduler.jobs
                   WHERE owner = $1 AND state IN ('queued', 'running')), 0)
)sql";

const char* const kResourceColumns =
    "(j.spec->'resources'->>'cores')::int, (j.spec->'resources'->>'memory_mb')::bigint, "
    "(j.spec->'resources'->>'gpus')::int, (j.spec->'resources'->>'disk_mb')::bigint";

core::Resources resourcesAt(const pqxx::row& r, int first) {
  return {r[first].as<int>(), r[first + 1].as<std::int64_t>(), r[first + 2].as<int>(),
          r[first + 3].as<std::int64_t>()};
}

const std::string& prepared(pqxx::transaction_base& w, const std::string& name, const char* sql) {
  w.conn().prepare(name, sql);
  return name;
}

Result<core::JobSpec> specFromRow(const std::string& spec_json) {
  // Every lease hands over its job's spec, and a job's tasks are leased by the thousand: parse
  // each stored text once. Keyed by the text itself, so a changed spec is simply another entry.
  static std::mutex mutex;
  static std::unordered_map<std::string, core::JobSpec> parsed;
  {
    std::lock_guard lock(mutex);
    auto it = parsed.find(spec_json);
    if (it != parsed.end()) return it->second;
  }
  auto spec = parseStoredSpec(spec_json);
  if (!spec.ok()) return spec;
  std::lock_guard lock(mutex);
  if (parsed.size() >= 1024) parsed.clear();  // bounded: the active jobs refill it
  parsed.emplace(spec_json, *spec);
  return spec;
}

namespace {

bool finished(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

// The job finished and others wait for it.
void jobFinished(pqxx::transaction_base& w, const std::string& job_id, const std::string& state) {
  if (state == "succeeded") {
    // Recounted rather than decremented, so a job that succeeds twice (a task requeued after
    // success) cannot release its dependents early.
    w.exec_params0(
        "UPDATE scheduler.jobs d SET blockers = (SELECT COUNT(*) FROM scheduler.job_deps x "
        "JOIN scheduler.jobs a ON a.id = x.after_job_id WHERE x.job_id = d.id "
        "AND a.state <> 'succeeded') "
        "WHERE d.id IN (SELECT job_id FROM scheduler.job_deps WHERE after_job_id = $1::uuid)",
        job_id);
    return;
  }
  auto dependents = w.exec_params(
      "UPDATE scheduler.tasks t SET state = 'cancelled', finished_at = now(), "
      "error = 'job ' || $1 || ', which this job runs after, ' || $2 "
      "FROM scheduler.job_deps x WHERE x.after_job_id = $1::uuid AND t.job_id = x.job_id "
      "AND t.state = 'pending' RETURNING t.id, t.job_id",
      job_id, state);
  std::set<std::string> jobs;
  std::vector<std::string> tasks;
  for (const auto& r : dependents) {
    tasks.push_back(r[0].as<std::string>());
    jobs.insert(r[1].as<std::string>());
  }
  // And single tasks waiting for this job's failed or cancelled tasks.
  auto ended = w.exec_params(
      "SELECT id FROM scheduler.tasks WHERE job_id = $1::uuid AND state IN ('failed', "
      "'cancelled')",
      job_id);
  std::vector<std::string> ended_ids;
  for (const auto& r : ended) ended_ids.push_back(r[0].as<std::string>());
  cancelTaskDependents(w, ended_ids);
  cancelTaskDependents(w, tasks);
  for (const auto& j : jobs) refreshJobState(w, j);
}

// The job succeeded before and runs again: unfinished jobs after it wait for it again.
void jobReopened(pqxx::transaction_base& w, const std::string& job_id) {
  w.exec_params0(
      "UPDATE scheduler.jobs d SET blockers = (SELECT COUNT(*) FROM scheduler.job_deps x "
      "JOIN scheduler.jobs a ON a.id = x.after_job_id WHERE x.job_id = d.id "
      "AND a.state <> 'succeeded') "
      "WHERE d.id IN (SELECT job_id FROM scheduler.job_deps WHERE after_job_id = $1::uuid) "
      "AND d.state IN ('queued', 'running')",
      job_id);
}

}  // namespace

std::string refreshJobState(pqxx::transaction_base& w, const std::string& job_id) {
  // The job's lock first, then the count: its statement sees every task change committed by the
  // transactions that held the lock before, and those after count again. Counted first, two
  // transactions finishing a job's last two tasks could each see the other's task still active,
  // and the job would stay running with nothing left to run. NO KEY UPDATE: inserts referencing
  // the job (its charges) need not wait.
  static const std::string kLock = "lock_job";
  w.exec_prepared(prepared(w, kLock,
                           "SELECT 1 FROM scheduler.jobs WHERE id = $1::uuid "
                           "FOR NO KEY UPDATE"),
                  job_id);
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
  const bool done = finished(state);
  auto updated = w.exec_params(
      "UPDATE scheduler.jobs j SET state = $2, finished_at = CASE WHEN $3 THEN "
      "COALESCE(j.finished_at, now()) ELSE NULL END "
      "FROM (SELECT state FROM scheduler.jobs WHERE id = $1::uuid) old "
      "WHERE j.id = $1::uuid RETURNING old.state, j.has_dependents",
      job_id, state, done);
  if (!updated.empty() && updated[0][1].as<bool>() && updated[0][0].as<std::string>() != state) {
    if (done) jobFinished(w, job_id, state);
    // A succeeded job runs again (a task requeued): jobs after it that are not finished wait for
    // it again. Recounted like a success, so their tasks already running are left alone and only
    // those not booked yet wait.
    if (!done && updated[0][0].as<std::string>() == "succeeded") jobReopened(w, job_id);
  }
  return state;
}

void cancelTaskDependents(pqxx::transaction_base& w, const std::vector<std::string>& task_ids) {
  std::vector<std::string> frontier = task_ids;
  std::set<std::string> jobs;
  // Breadth first over chains of task dependencies; each round one statement.
  for (int depth = 0; !frontier.empty() && depth < 1000; ++depth) {
    auto rows = w.exec_params(
        "UPDATE scheduler.tasks d SET state = 'cancelled', finished_at = now(), "
        "error = 'task ' || a.index || ' of job ' || a.job_id || ', which this task runs after, ' "
        "|| a.state "
        "FROM scheduler.task_deps x JOIN scheduler.tasks a ON a.id = x.after_task_id "
        "WHERE x.task_id = d.id AND x.after_task_id::text IN "
        "(SELECT jsonb_array_elements_text($1::jsonb)) AND d.state = 'pending' "
        "RETURNING d.id, d.job_id",
        jsonList(frontier));
    frontier.clear();
    for (const auto& r : rows) {
      frontier.push_back(r[0].as<std::string>());
      jobs.insert(r[1].as<std::string>());
    }
  }
  for (const auto& j : jobs) refreshJobState(w, j);
}

void recountTaskDependents(pqxx::transaction_base& w, const std::string& task_id) {
  static const std::string kName = "unblock_dependents";
  w.exec_prepared0(
      prepared(w, kName,
               "UPDATE scheduler.tasks d SET blockers = (SELECT COUNT(*) FROM scheduler.task_deps "
               "x JOIN scheduler.tasks a ON a.id = x.after_task_id WHERE x.task_id = d.id "
               "AND a.state <> 'succeeded') WHERE d.state = 'pending' AND d.id IN "
               "(SELECT task_id FROM scheduler.task_deps WHERE after_task_id = $1::uuid)"),
      task_id);
}

}  // namespace detail

using namespace detail;

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
