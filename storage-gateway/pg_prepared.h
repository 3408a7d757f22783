#pragma once
// Internal to the gateway's PostgreSQL adapters: runs a statement as a named prepared statement
// of the connection. The hot statements of GET and PUT are parsed and planned once per
// connection instead of on every request (parsing and planning were a large share of the
// database's CPU per small request). libpqxx registers the definition on the connection (a
// no-op when already registered with the same text) and prepares it on first use; a replaced
// (broken) connection starts with none.

#include <string>
#include <utility>

#include "common/pg.h"

namespace dcloud::gateway {

// name must be unique per distinct sql text across the process (a prefix per file keeps it so).
template <typename... Args>
pqxx::result execPrepared(pqxx::transaction_base& w, const std::string& name,
                          const std::string& sql, Args&&... args) {
  w.conn().prepare(name, sql);
  return w.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace dcloud::gateway
