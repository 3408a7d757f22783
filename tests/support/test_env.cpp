#include "tests/support/test_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "common/log.h"
#include "common/pg.h"
#include "common/random.h"

namespace dcloud::testing {

namespace {

std::string requireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    ADD_FAILURE() << name << " is not set: run integration tests through scripts/test, or "
                  << "eval \"$(scripts/test-services up)\" first";
    throw std::runtime_error(std::string(name) + " is not set");
  }
  return v;
}

std::string replaceDbname(const std::string& conninfo, const std::string& db) {
  std::string out;
  std::size_t pos = 0;
  bool replaced = false;
  while (pos < conninfo.size()) {
    std::size_t end = conninfo.find(' ', pos);
    std::string part =
        conninfo.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.rfind("dbname=", 0) == 0) {
      part = "dbname=" + db;
      replaced = true;
    }
    if (!part.empty()) out += (out.empty() ? "" : " ") + part;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  if (!replaced) out += " dbname=" + db;
  return out;
}

struct Cleanup {
  std::mutex mutex;
  std::vector<std::string> databases;
  std::vector<std::string> dirs;
  std::string admin;
  ~Cleanup() {
    for (const auto& d : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
    if (databases.empty()) return;
    try {
      pqxx::connection c(admin);
      for (const auto& db : databases) {
        pqxx::nontransaction w(c);
        w.exec0("DROP DATABASE IF EXISTS " + w.quote_name(db) + " WITH (FORCE)");
      }
    } catch (const std::exception&) {
      // The server may already be gone at exit; scripts/test removes the whole cluster anyway.
    }
  }
};

Cleanup& cleanup() {
  static Cleanup c;
  return c;
}

std::string testSlug() {
  std::string name = "t";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "_" + info->name();
  }
  std::string slug;
  for (char c : name) {
    slug += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  }
  return slug.substr(0, 40);
}

}  // namespace

std::string createTestDatabase() {
  const std::string admin = requireEnv("DCLOUD_TEST_PG");
  const std::string db = "dct_" + testSlug() + "_" + SecureRandom::instance().hex(4);
  pqxx::connection c(admin);
  pqxx::nontransaction w(c);
  w.exec0("CREATE DATABASE " + w.quote_name(db));
  {
    std::lock_guard lock(cleanup().mutex);
    cleanup().admin = admin;
    cleanup().databases.push_back(db);
  }
  return replaceDbname(admin, db);
}

std::string createMigratedTestDatabase() {
  std::string conninfo = createTestDatabase();
  Status s = applyEmbeddedMigrations(conninfo, Logger("test"));
  if (!s.ok()) throw std::runtime_error("migrations failed: " + s.error().message);
  return conninfo;
}

RedisConfig testRedisConfig() {
  const std::string hostport = requireEnv("DCLOUD_TEST_REDIS");
  RedisConfig config;
  std::size_t colon = hostport.rfind(':');
  config.host = hostport.substr(0, colon);
  config.port = std::stoi(hostport.substr(colon + 1));
  config.key_prefix = "test:" + testSlug() + ":" + SecureRandom::instance().hex(4) + ":";
  return config;
}

std::string makeTempDir() {
  std::string pattern = "/tmp/dcloud-test-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  std::lock_guard lock(cleanup().mutex);
  cleanup().dirs.push_back(pattern);
  return pattern;
}

std::string sourceDir() {
  return DCLOUD_SOURCE_DIR;
}
std::string binaryDir() {
  return DCLOUD_BINARY_DIR;
}

}  // namespace dcloud::testing
