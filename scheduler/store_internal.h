#pragma once
// Helpers shared by the store's files (store*.cpp); not part of the store's interface.

#include <string>
#include <vector>

#include "common/pg.h"
#include "common/result.h"
#include "scheduler/core/job_spec.h"

namespace dcloud::scheduler::detail {

// pqxx 6 has no array parameters: pass lists as a JSON array and unnest it in SQL.
std::string jsonList(const std::vector<std::string>& items);
std::vector<std::string> parseJsonList(const std::string& text);

// The owner's balance less escrow held and unsettled charges; and the escrow held.
extern const char* const kAvailableSql;

// A job row `j`'s resource needs as four columns (cores, memory_mb, gpus, disk_mb), and those
// columns read back from position `first` of a result row.
extern const char* const kResourceColumns;
core::Resources resourcesAt(const pqxx::row& r, int first);

// Names a statement prepared once per connection (pqxx sends it on first use; defining it again
// with the same text is a no-op): the per-task statements skip PostgreSQL's parse and plan.
const std::string& prepared(pqxx::transaction_base& w, const std::string& name, const char* sql);

// Recomputes the job's state from its tasks' states, in the caller's transaction. When the job
// has dependents and just finished, they learn of it: jobs waiting for it become ready (it
// succeeded) or are cancelled (it failed or was cancelled), and so are tasks waiting for its
// tasks.
std::string refreshJobState(pqxx::transaction_base& w, const std::string& job_id);

// Tasks waiting for these (failed or cancelled) tasks are cancelled, transitively; their jobs'
// states are refreshed.
void cancelTaskDependents(pqxx::transaction_base& w, const std::vector<std::string>& task_ids);
// Pending tasks waiting for this task recount what they still wait for: fewer when it
// succeeded, more when a succeeded task was requeued (tasks already booked are left alone).
void recountTaskDependents(pqxx::transaction_base& w, const std::string& task_id);

Result<core::JobSpec> specFromRow(const std::string& spec_json);

}  // namespace dcloud::scheduler::detail
