#pragma once
// What integration tests need from the environment scripts/test prepares: a PostgreSQL server
// (DCLOUD_TEST_PG, a libpq connection string for a superuser) and Redis (DCLOUD_TEST_REDIS,
// host:port). Each test gets its own database and its own Redis key prefix, so tests are isolated
// and may run in parallel. A missing variable fails the test with a clear message, never skips.

#include <memory>
#include <string>

#include "common/redis.h"
#include "common/result.h"

namespace dcloud::testing {

// Creates a fresh, empty database named after the running test plus a random suffix and returns
// its connection string. The database is dropped at process exit.
std::string createTestDatabase();
// The same database with every embedded migration applied.
std::string createMigratedTestDatabase();
// Redis settings with a key prefix unique to this test.
RedisConfig testRedisConfig();
// A fresh empty directory under /tmp, removed at process exit.
std::string makeTempDir();
// The repository root (for samples/, scripts/).
std::string sourceDir();
// The build directory (for build/bin).
std::string binaryDir();

}  // namespace dcloud::testing
