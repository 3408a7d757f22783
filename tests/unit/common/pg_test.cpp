#include "common/pg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/test_env.h"

namespace dcloud {
namespace {

const Logger kLog("pg-test");

std::unique_ptr<PgPool> connectOrDie(const std::string& conninfo) {
  auto pool = PgPool::connect(conninfo, 2);
  if (!pool.ok()) throw std::runtime_error(pool.error().toString());
  return std::move(*pool);
}

Status migrate(PgPool& pool, const std::vector<Migration>& migrations) {
  return pool.withStatus([&](pqxx::connection& c) { return applyMigrations(c, migrations, kLog); });
}

Result<int> version(PgPool& pool) {
  return pool.with<int>([](pqxx::connection& c) { return schemaVersion(c); });
}

Result<std::int64_t> count(PgPool& pool, const std::string& sql) {
  return pool.with<std::int64_t>([&](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::read_transaction w(c);
    return w.exec1(sql)[0].as<std::int64_t>();
  });
}

const std::vector<Migration> kTwo = {
    {1, "0001_a", "CREATE TABLE a (id integer PRIMARY KEY, v integer CHECK (v >= 0))"},
    {2, "0002_b", "CREATE TABLE b (id integer PRIMARY KEY); INSERT INTO b VALUES (1)"},
};

TEST(PgTest, MigrationsApplyOnceAndReapplyingIsANoOp) {
  auto pool = connectOrDie(testing::createTestDatabase());
  EXPECT_EQ(*version(*pool), 0);
  Status s = migrate(*pool, kTwo);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(*version(*pool), 2);
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM b"), 1);
  // A second run would fail on CREATE TABLE or insert a second row if it re-ran anything.
  s = migrate(*pool, kTwo);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(*version(*pool), 2);
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM b"), 1);
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM schema_migrations"), 2);
}

TEST(PgTest, NewMigrationsApplyOnTopOfOldOnes) {
  auto pool = connectOrDie(testing::createTestDatabase());
  ASSERT_TRUE(migrate(*pool, {kTwo[0]}).ok());
  EXPECT_EQ(*version(*pool), 1);
  ASSERT_TRUE(migrate(*pool, kTwo).ok());
  EXPECT_EQ(*version(*pool), 2);
}

TEST(PgTest, FailingMigrationIsRolledBack) {
  auto pool = connectOrDie(testing::createTestDatabase());
  std::vector<Migration> with_bad = kTwo;
  with_bad.push_back({3, "0003_bad", "CREATE TABLE c (id integer); SELECT * FROM no_such_table"});
  Status s = migrate(*pool, with_bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(*version(*pool), 2);
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'"), 0);
}

TEST(PgTest, NewerDatabaseIsRefused) {
  auto pool = connectOrDie(testing::createTestDatabase());
  ASSERT_TRUE(migrate(*pool, kTwo).ok());
  ASSERT_TRUE(pool->withStatus([](pqxx::connection& c) -> Status {
                    pqxx::work w(c);
                    w.exec0("INSERT INTO schema_migrations (version, name) VALUES (3, '0003_x')");
                    w.commit();
                    return okStatus();
                  })
                  .ok());
  Status s = migrate(*pool, kTwo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition) << s.error().toString();
  // Nothing was applied by the refused run.
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM schema_migrations"), 3);
}

TEST(PgTest, EmbeddedMigrationsApply) {
  ASSERT_FALSE(embeddedMigrations().empty());
  const std::string conninfo = testing::createTestDatabase();
  Status s = applyEmbeddedMigrations(conninfo, kLog);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  auto pool = connectOrDie(conninfo);
  EXPECT_EQ(*version(*pool), embeddedMigrations().back().version);
  s = applyEmbeddedMigrations(conninfo, kLog);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(embeddedMigrations().size()));
  // And a database ahead of this build is refused.
  ASSERT_TRUE(pool->withStatus([](pqxx::connection& c) -> Status {
                    pqxx::work w(c);
                    w.exec0("INSERT INTO schema_migrations (version, name) VALUES (99999, 'x')");
                    w.commit();
                    return okStatus();
                  })
                  .ok());
  s = applyEmbeddedMigrations(conninfo, kLog);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
}

TEST(PgTest, PgErrorMapsDatabaseErrors) {
  auto pool = connectOrDie(testing::createTestDatabase());
  ASSERT_TRUE(migrate(*pool, kTwo).ok());
  auto exec = [&](const std::string& sql) {
    return pool->withStatus([&](pqxx::connection& c) -> Status {
      pqxx::work w(c);
      w.exec0(sql);
      w.commit();
      return okStatus();
    });
  };
  ASSERT_TRUE(exec("INSERT INTO a VALUES (1, 1)").ok());
  Status dup = exec("INSERT INTO a VALUES (1, 2)");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().toString();
  Status check = exec("INSERT INTO a VALUES (2, -1)");
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, ErrorCode::kInvalidArgument) << check.error().toString();
  Status syntax = exec("INSERT INTO nowhere VALUES (1)");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code, ErrorCode::kInternal) << syntax.error().toString();
  // The pool still works after the errors.
  EXPECT_EQ(*count(*pool, "SELECT count(*) FROM a"), 1);
}

TEST(PgTest, PoolReturnsErrorsFromTheCallback) {
  auto pool = connectOrDie(testing::createTestDatabase());
  auto r = pool->with<int>([](pqxx::connection&) -> Result<int> { return notFound("nope"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  auto thrown =
      pool->with<int>([](pqxx::connection&) -> Result<int> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().code, ErrorCode::kInternal);
  // Both connections are back: two nested uses do not deadlock.
  auto nested = pool->with<int>([&](pqxx::connection&) -> Result<int> {
    return pool->with<int>([](pqxx::connection& c) -> Result<int> {
      pqxx::read_transaction w(c);
      return w.exec1("SELECT 7")[0].as<int>();
    });
  });
  ASSERT_TRUE(nested.ok()) << nested.error().toString();
  EXPECT_EQ(*nested, 7);
}

TEST(PgTest, UnreachableDatabaseIsUnavailable) {
  auto r = PgPool::connect("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  Status s = applyEmbeddedMigrations("host=127.0.0.1 port=1 dbname=x connect_timeout=2", kLog);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace dcloud
