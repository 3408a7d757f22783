// The store's completions: a worker's report that an attempt ended, with its signed usage
// receipt. Successes of tasks nothing waits for, the common case by far, are group-committed
// (completeBatch: one transaction for every completion that arrived meanwhile); failures (retry,
// backoff, blocklist), fenced attempts, cancelled tasks and tasks with dependents complete one by
// one (completeAlone).
#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_set>

#include "common/log.h"
#include "scheduler/store.h"
#include "scheduler/store_internal.h"

namespace dcloud::scheduler {

using namespace detail;

namespace {

// A completion of an attempt that was taken from its task (requeue, preemption): billed once for
// the work done until it stopped, the task left alone.
Result<CompletionResult> completeFenced(pqxx::work& w, const Completion& done) {
  auto rows = w.exec_params(
      "SELECT f.price, t.job_id::text, j.owner, wk.provider, "
      "(j.spec->>'timeout_seconds')::bigint, t.index, t.state, j.state "
      "FROM scheduler.fenced_attempts f JOIN scheduler.tasks t ON t.id = f.task_id "
      "JOIN scheduler.jobs j ON j.id = t.job_id JOIN scheduler.workers wk ON wk.id = f.worker_id "
      "WHERE f.attempt_id = $1::uuid AND f.task_id = $2::uuid AND f.worker_id = $3::uuid",
      done.attempt_id, done.task_id, done.worker_id);
  if (rows.empty()) {
    return conflict("attempt " + done.attempt_id + " of task " + done.task_id +
                    " is not held by this worker (stale attempt)");
  }
  const auto& r = rows[0];
  CompletionResult out;
  out.task = {r[1].as<std::string>(), r[5].as<int>()};
  out.cost = core::attemptCost(
      r[0].as<Micros>(),
      std::min<std::int64_t>(done.receipt.wall_millis, r[4].as<std::int64_t>() * 1000));
  // receipt_id is unique: a second completion of one attempt is refused, never paid twice.
  w.exec_params0(
      "INSERT INTO scheduler.outbox (receipt_id, task_id, job_id, payer, payee, amount, "
      "receipt, provider_signature) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, "
      "$7::jsonb, $8)",
      done.attempt_id, done.task_id, out.task.job_id, r[2].as<std::string>(),
      r[3].as<std::string>(), out.cost, done.receipt_json, done.receipt_signature);
  out.task_state = r[6].as<std::string>();
  out.job_state = r[7].as<std::string>();
  w.commit();
  return out;
}

}  // namespace

Result<CompletionResult> SchedulerStore::completeAlone(const Completion& done) {
  return pool_.with<CompletionResult>([&](pqxx::connection& c) -> Result<CompletionResult> {
    pqxx::work w(c);
    // The job is locked with the task: whether this completion ends the job is decided after
    // every completion of its other tasks before it has committed (see refreshJobState).
    static const std::string kName = "complete_select_v3";
    auto rows = w.exec_prepared(
        prepared(w, kName,
                 "SELECT t.state, t.attempts, t.price, t.job_id, j.owner, "
                 "(j.spec->>'max_attempts')::int, w.provider, "
                 "(j.spec->>'timeout_seconds')::bigint, t.index, "
                 "COALESCE((j.spec->>'retry_backoff_seconds')::bigint, 0), "
                 "COALESCE((j.spec->>'retry_backoff_max_seconds')::bigint, 0), j.has_dependents "
                 "FROM scheduler.tasks t JOIN scheduler.jobs j ON j.id = t.job_id "
                 "JOIN scheduler.workers w ON w.id = t.worker_id "
                 "WHERE t.id = $1::uuid AND t.attempt_id = $2::uuid AND "
                 "t.worker_id = $3::uuid FOR UPDATE OF t FOR NO KEY UPDATE OF j"),
        done.task_id, done.attempt_id, done.worker_id);
    if (rows.empty()) return completeFenced(w, done);
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
    core::JobSpec backoff;
    backoff.retry_backoff_seconds = rows[0][9].as<std::int64_t>();
    backoff.retry_backoff_max_seconds = rows[0][10].as<std::int64_t>();
    const bool has_dependents = rows[0][11].as<bool>();
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
    if (!done.succeeded) {
      // Counts toward the job's blocklist of this worker.
      static const std::string kFailure = "count_worker_failure";
      w.exec_prepared0(
          prepared(w, kFailure,
                   "INSERT INTO scheduler.job_worker_failures (job_id, worker_id, failures) "
                   "VALUES ($1::uuid, $2::uuid, 1) ON CONFLICT (job_id, worker_id) DO UPDATE "
                   "SET failures = scheduler.job_worker_failures.failures + 1"),
          job_id, done.worker_id);
    }
    if (*next == core::TaskState::kSucceeded || *next == core::TaskState::kFailed) {
      // The common case in one statement: finish the task, charge the attempt, and ask whether the
      // job has other unfinished tasks (the CTEs' writes are not visible to the outer query, hence
      // `id <> task`). While it has, the job stays running (deriveJobState: one finished and one
      // active task), with no need to count all its tasks.
      static const std::string kFinish = "complete_finish_v2";
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
              "EXISTS (SELECT 1 FROM scheduler.tasks "
              "WHERE job_id = $7::uuid AND id <> $1::uuid AND state IN ('pending', 'leased', "
              "'running'))"),
          done.task_id, out.task_state, done.exit_code, done.error, jsonList(done.outputs),
          done.attempt_id, job_id, owner, provider, out.cost, done.receipt_json,
          done.receipt_signature);
      if (rows.size() != 1)
        return internalError("completion of " + done.task_id + " wrote nothing");
      // Now that the task's end is visible, tasks waiting for it learn of it.
      if (has_dependents) {
        if (*next == core::TaskState::kSucceeded) recountTaskDependents(w, done.task_id);
        if (*next == core::TaskState::kFailed) cancelTaskDependents(w, {done.task_id});
      }
      out.job_state = rows[0][1].as<bool>() ? "running" : refreshJobState(w, job_id);
      w.commit();
      return out;
    }
    w.exec_params0(
        "UPDATE scheduler.tasks SET state = $2, exit_code = $3, error = $4, outputs = $5::jsonb, "
        "finished_at = CASE WHEN $6 THEN NULL ELSE now() END, "
        "worker_id = CASE WHEN $6 THEN NULL ELSE worker_id END, "
        "attempt_id = CASE WHEN $6 THEN NULL ELSE attempt_id END, "
        "delivered = CASE WHEN $6 THEN false ELSE delivered END, "
        "not_before_ms = CASE WHEN $6 THEN $7 ELSE not_before_ms END WHERE id = $1::uuid",
        done.task_id, out.task_state, done.exit_code, done.error, jsonList(done.outputs),
        back_to_queue, done.now_ms + core::retryDelayMillis(backoff, attempts));
    charge();
    return out;
  });
}

Result<CompletionResult> SchedulerStore::completeTask(const Completion& done) {
  if (auto batched = completions_.apply(done)) return std::move(*batched);
  auto result = completeAlone(done);
  // Every completion that stands charged its attempt: the ledger adapter hears of it.
  if (result.ok()) outbox_notifier_.charged();
  return result;
}

std::vector<std::optional<Result<CompletionResult>>> SchedulerStore::completeBatch(
    const std::vector<const Completion*>& batch) {
  std::vector<std::optional<Result<CompletionResult>>> answers(batch.size());
  // Successes only, one per task: a second report of a task in one batch takes the per-task path
  // after this batch committed, and is refused there like any repeat.
  std::vector<std::string> tasks, attempts, workers, positions;
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Completion& c = *batch[i];
    if (!c.succeeded || !seen.insert(c.task_id).second) continue;
    tasks.push_back(c.task_id);
    attempts.push_back(c.attempt_id);
    workers.push_back(c.worker_id);
    positions.push_back(std::to_string(i));
  }
  if (tasks.empty()) return answers;
  struct Finished {
    std::size_t position;
    CompletionResult result;
  };
  auto applied = pool_.with<std::vector<Finished>>([&](pqxx::connection& conn)
                                                       -> Result<std::vector<Finished>> {
    pqxx::work w(conn);
    // Each attempt's task, locked in id order (two batches never wait on each other in a
    // cycle). A row missing (fenced or stale attempt) or not plainly active takes the
    // per-task path.
    static const std::string kSelect = "complete_batch_select";
    auto rows = w.exec_prepared(prepared(w, kSelect, R"sql(
              SELECT b.i, t.state, t.price, t.job_id::text, j.owner, wk.provider,
                (j.spec->>'timeout_seconds')::bigint, t.index, j.has_dependents
              FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[]) AS b(t, a, w, i)
              JOIN scheduler.tasks t ON t.id = b.t AND t.attempt_id = b.a AND t.worker_id = b.w
              JOIN scheduler.jobs j ON j.id = t.job_id
              JOIN scheduler.workers wk ON wk.id = t.worker_id
              WHERE t.id = ANY($1::uuid[]) AND t.state IN ('leased', 'running')
              ORDER BY t.id FOR UPDATE OF t)sql"),
                                pgTextArray(tasks), pgTextArray(attempts), pgTextArray(workers),
                                pgTextArray(positions));
    std::vector<Finished> finished;
    std::set<std::string> jobs;  // ordered: locked in id order too
    std::vector<std::string> f_tasks, f_attempts, f_jobs, f_exit, f_error, f_outputs, f_payer,
        f_payee, f_cost, f_receipt, f_signature;
    for (const auto& r : rows) {
      if (r[8].as<bool>()) continue;  // tasks wait for it: per-task path
      const auto position = r[0].as<std::size_t>();
      const Completion& c = *batch[position];
      Finished f{position, {}};
      f.result.task = {r[3].as<std::string>(), r[7].as<int>()};
      f.result.task_state = core::taskStateName(core::TaskState::kSucceeded);
      // Never billed past the job's timeout, as in completeAlone.
      f.result.cost = core::attemptCost(
          r[2].as<Micros>(),
          std::min<std::int64_t>(c.receipt.wall_millis, r[6].as<std::int64_t>() * 1000));
      jobs.insert(f.result.task.job_id);
      f_tasks.push_back(c.task_id);
      f_attempts.push_back(c.attempt_id);
      f_jobs.push_back(f.result.task.job_id);
      f_exit.push_back(std::to_string(c.exit_code));
      f_error.push_back(c.error);
      f_outputs.push_back(jsonList(c.outputs));
      f_payer.push_back(r[4].as<std::string>());
      f_payee.push_back(r[5].as<std::string>());
      f_cost.push_back(std::to_string(f.result.cost));
      f_receipt.push_back(c.receipt_json);
      f_signature.push_back(c.receipt_signature);
      finished.push_back(std::move(f));
    }
    if (finished.empty()) return finished;  // rolled back: nothing was written
    // Whether a job ends here is asked under its lock, as refreshJobState does.
    static const std::string kLockJobs = "complete_batch_lock_jobs";
    w.exec_prepared(prepared(w, kLockJobs,
                             "SELECT 1 FROM scheduler.jobs WHERE id = ANY($1::uuid[]) "
                             "ORDER BY id FOR NO KEY UPDATE"),
                    pgTextArray({jobs.begin(), jobs.end()}));
    // Finish the tasks, charge the attempts (receipt_id is unique: never paid twice), and
    // name the jobs left with no active task (the CTEs' writes are not visible to the outer
    // query, hence `<> ALL`).
    static const std::string kFinish = "complete_batch_finish";
    auto done = w.exec_prepared(prepared(w, kFinish, R"sql(
              WITH b AS (
                SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[],
                  $6::jsonb[], $7::text[], $8::text[], $9::bigint[], $10::jsonb[], $11::text[])
                AS b(t, a, j, x, e, o, payer, payee, c, r, s)),
              u AS (
                UPDATE scheduler.tasks t SET state = 'succeeded', exit_code = b.x, error = b.e,
                  outputs = b.o, finished_at = now()
                FROM b WHERE t.id = ANY($1::uuid[]) AND t.id = b.t RETURNING t.id),
              o AS (
                INSERT INTO scheduler.outbox (receipt_id, task_id, job_id, payer, payee, amount,
                  receipt, provider_signature)
                SELECT b.a, b.t, b.j, b.payer, b.payee, b.c, b.r, b.s FROM b RETURNING id),
              ended AS (
                SELECT DISTINCT b.j FROM b WHERE NOT EXISTS (
                  SELECT 1 FROM scheduler.tasks x WHERE x.job_id = b.j
                    AND x.state IN ('pending', 'leased', 'running') AND x.id <> ALL($1::uuid[])))
              SELECT (SELECT COUNT(*) FROM u), (SELECT COUNT(*) FROM o), ended.j::text
              FROM (SELECT 1) one LEFT JOIN ended ON true)sql"),
                                pgTextArray(f_tasks), pgTextArray(f_attempts), pgTextArray(f_jobs),
                                pgTextArray(f_exit), pgTextArray(f_error), pgTextArray(f_outputs),
                                pgTextArray(f_payer), pgTextArray(f_payee), pgTextArray(f_cost),
                                pgTextArray(f_receipt), pgTextArray(f_signature));
    const auto n = static_cast<std::int64_t>(finished.size());
    if (done.empty() || done[0][0].as<std::int64_t>() != n || done[0][1].as<std::int64_t>() != n) {
      return internalError("a batch of completions wrote partly; rolled back");
    }
    std::map<std::string, std::string> job_states;
    for (const auto& r : done) {
      if (r[2].is_null()) continue;
      const std::string job = r[2].as<std::string>();
      job_states[job] = refreshJobState(w, job);
    }
    // As if applied one after another: a job with active tasks left is running (one finished,
    // one active: deriveJobState), and a job this batch ended ends with its last completion
    // here, which alone reports it (the caller announces the job's end once).
    for (auto f = finished.rbegin(); f != finished.rend(); ++f) {
      auto it = job_states.find(f->result.task.job_id);
      if (it == job_states.end()) {
        f->result.job_state = "running";
        continue;
      }
      f->result.job_state = std::move(it->second);
      job_states.erase(it);
    }
    w.commit();
    return finished;
  });
  if (!applied.ok()) {
    // Nothing of the batch stands: each completion goes its own way, where its error (if any)
    // is its own.
    Logger("store").warn(
        "a batch of " + std::to_string(tasks.size()) +
        " completion(s) failed, completing them one by one: " + applied.error().message);
    return answers;
  }
  for (auto& f : *applied) answers[f.position] = std::move(f.result);
  if (!applied->empty()) outbox_notifier_.charged();
  return answers;
}

}  // namespace dcloud::scheduler
