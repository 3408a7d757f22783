#pragma once
// PostgreSQL through libpqxx: a fixed pool of connections and the migration runner.
// libpqxx exceptions never leave a function declared here; callers of withConnection catch their
// own (see pgError).

#include <pqxx/pqxx>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/migrations.h"
#include "common/result.h"

namespace dcloud {

class PgPool {
 public:
  // Opens size connections; Unavailable if the database cannot be reached.
  static Result<std::unique_ptr<PgPool>> connect(const std::string& conninfo, int size);

  // Runs fn with a connection held exclusively; a broken connection is replaced on next use.
  // Exceptions thrown by fn (pqxx or others) are caught and returned as errors via pgError.
  template <typename T>
  Result<T> with(const std::function<Result<T>(pqxx::connection&)>& fn);
  Status withStatus(const std::function<Status(pqxx::connection&)>& fn);

  const std::string& conninfo() const { return conninfo_; }

 private:
  explicit PgPool(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  std::unique_ptr<pqxx::connection> take();
  void give(std::unique_ptr<pqxx::connection> conn);
  std::string conninfo_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int size_ = 0;
  int out_ = 0;
};

// pqxx 6 has no array parameters: a list travels as a PostgreSQL array literal, each item quoted
// (`$1::text[]`, `$1::uuid[]`, `$1::jsonb[]`, ...).
std::string pgTextArray(const std::vector<std::string>& items);

// Maps a caught exception (from pqxx or elsewhere) to an Error: broken connection -> Unavailable,
// unique violation -> AlreadyExists, serialization failure -> Conflict, others -> Internal.
Error pgError(const std::exception& e);

// Applies every embedded migration newer than the database's version, each in its own
// transaction, under an advisory lock so concurrent services do not race. FailedPrecondition if
// the database is at a version newer than this build knows.
Status applyMigrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                       const Logger& log);
// Convenience: connect once to conninfo and apply embeddedMigrations().
Status applyEmbeddedMigrations(const std::string& conninfo, const Logger& log);
// The version recorded in the database (0 when none).
Result<int> schemaVersion(pqxx::connection& conn);

template <typename T>
Result<T> PgPool::with(const std::function<Result<T>(pqxx::connection&)>& fn) {
  std::unique_ptr<pqxx::connection> conn = take();
  if (!conn) return unavailable("database connection could not be opened");
  try {
    Result<T> r = fn(*conn);
    give(std::move(conn));
    return r;
  } catch (const std::exception& e) {
    const bool broken = !conn->is_open() || dynamic_cast<const pqxx::broken_connection*>(&e);
    give(broken ? nullptr : std::move(conn));
    return pgError(e);
  }
}

}  // namespace dcloud
