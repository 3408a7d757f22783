#include "common/pg.h"

namespace dcloud {

Result<std::unique_ptr<PgPool>> PgPool::connect(const std::string& conninfo, int size) {
  std::unique_ptr<PgPool> pool(new PgPool(conninfo));
  pool->size_ = size;
  try {
    for (int i = 0; i < std::min(size, 2); ++i) {
      pool->idle_.push_back(std::make_unique<pqxx::connection>(conninfo));
    }
  } catch (const std::exception& e) {
    return unavailable(std::string("cannot connect to PostgreSQL: ") + e.what());
  }
  return pool;
}

std::unique_ptr<pqxx::connection> PgPool::take() {
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || out_ < size_; });
    ++out_;
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  try {
    return std::make_unique<pqxx::connection>(conninfo_);
  } catch (const std::exception&) {
    std::lock_guard lock(mutex_);
    --out_;
    available_.notify_one();
    return nullptr;
  }
}

void PgPool::give(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  --out_;
  if (conn && conn->is_open()) idle_.push_back(std::move(conn));
  available_.notify_one();
}

Status PgPool::withStatus(const std::function<Status(pqxx::connection&)>& fn) {
  auto r = with<bool>([&](pqxx::connection& c) -> Result<bool> {
    Status s = fn(c);
    if (!s.ok()) return s.error();
    return true;
  });
  if (!r.ok()) return r.error();
  return okStatus();
}

std::string pgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Error pgError(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return unavailable(std::string("database connection lost: ") + e.what());
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) {
    return alreadyExists(std::string("already exists: ") + e.what());
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e)) {
    return conflict(std::string("concurrent update, retry: ") + e.what());
  }
  if (dynamic_cast<const pqxx::check_violation*>(&e) ||
      dynamic_cast<const pqxx::data_exception*>(&e)) {
    return invalidArgument(std::string("rejected by the database: ") + e.what());
  }
  return internalError(std::string("database error: ") + e.what());
}

Result<int> schemaVersion(pqxx::connection& conn) {
  try {
    pqxx::work w(conn);
    auto exists = w.exec1("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
    if (!exists[0].as<bool>()) return 0;
    auto r = w.exec1("SELECT COALESCE(MAX(version), 0) FROM public.schema_migrations");
    return r[0].as<int>();
  } catch (const std::exception& e) {
    return pgError(e);
  }
}

Status applyMigrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                       const Logger& log) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  try {
    {
      pqxx::work w(conn);
      // One runner at a time across every service sharing this database.
      w.exec("SELECT pg_advisory_xact_lock(727361)");  // returns one row: not exec0
      w.exec0(
          "CREATE TABLE IF NOT EXISTS public.schema_migrations (version integer PRIMARY KEY, "
          "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      w.commit();
    }
    for (const Migration& m : migrations) {
      pqxx::work w(conn);
      w.exec("SELECT pg_advisory_xact_lock(727361)");  // returns one row: not exec0
      int current =
          w.exec1("SELECT COALESCE(MAX(version), 0) FROM public.schema_migrations")[0].as<int>();
      if (current > known) {
        return failedPrecondition("database schema is at version " + std::to_string(current) +
                                  ", newer than this build knows (" + std::to_string(known) +
                                  "); upgrade dcloud");
      }
      auto seen =
          w.exec_params("SELECT 1 FROM public.schema_migrations WHERE version = $1", m.version);
      if (!seen.empty()) continue;
      w.exec(m.sql);
      w.exec_params0("INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)",
                     m.version, std::string(m.name));
      w.commit();
      log.info("applied migration " + std::string(m.name));
    }
    pqxx::work w(conn);
    int current =
        w.exec1("SELECT COALESCE(MAX(version), 0) FROM public.schema_migrations")[0].as<int>();
    if (current > known) {
      return failedPrecondition("database schema is at version " + std::to_string(current) +
                                ", newer than this build knows (" + std::to_string(known) +
                                "); upgrade dcloud");
    }
  } catch (const std::exception& e) {
    return pgError(e);
  }
  return okStatus();
}

Status applyEmbeddedMigrations(const std::string& conninfo, const Logger& log) {
  try {
    pqxx::connection conn(conninfo);
    return applyMigrations(conn, embeddedMigrations(), log);
  } catch (const std::exception& e) {
    return unavailable(std::string("cannot connect to PostgreSQL: ") + e.what());
  }
}

}  // namespace dcloud
