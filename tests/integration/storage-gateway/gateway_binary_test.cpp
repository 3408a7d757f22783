// build/bin/dcloud-gateway as operators run it: keys commands, serve on port 0 with a port file,
// clean exit on SIGTERM, non-zero exit when the database is unusable.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/s3_client.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

extern char** environ;

namespace dcloud::gateway::testing {
namespace {

std::string binary() {
  return dcloud::testing::binaryDir() + "/bin/dcloud-gateway";
}

std::string field(const std::string& text, const std::string& name) {
  const std::size_t at = text.find(name + "=");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 1;
  return text.substr(start, text.find_first_of(" \n", start) - start);
}

TEST(GatewayBinaryTest, KeysCommands) {
  const std::string db = dcloud::testing::createTestDatabase();
  const std::string key_file = dcloud::testing::makeTempDir() + "/master.key";
  CommandResult created = runCommand({binary(), "keys", "create", "--db", db, "--master-key-file",
                                      key_file, "--principal", "p1", "--access-key", "AKIDEXAMPLE1",
                                      "--secret", "secret-secret-1"});
  ASSERT_EQ(created.rc, 0) << created.err;
  EXPECT_EQ(field(created.out, "access_key"), "AKIDEXAMPLE1");
  EXPECT_EQ(field(created.out, "secret_key"), "secret-secret-1");
  CommandResult generated = runCommand(
      {binary(), "keys", "create", "--db", db, "--master-key-file", key_file, "--principal", "p2"});
  ASSERT_EQ(generated.rc, 0) << generated.err;
  EXPECT_EQ(field(generated.out, "access_key").size(), 20u);
  EXPECT_EQ(field(generated.out, "secret_key").size(), 40u);
  CommandResult dup = runCommand({binary(), "keys", "create", "--db", db, "--master-key-file",
                                  key_file, "--principal", "p1", "--access-key", "AKIDEXAMPLE1",
                                  "--secret", "another-secret"});
  EXPECT_EQ(dup.rc, 1);
  CommandResult revoked =
      runCommand({binary(), "keys", "revoke", "--db", db, "--access-key", "AKIDEXAMPLE1"});
  EXPECT_EQ(revoked.rc, 0) << revoked.err;
  CommandResult list = runCommand({binary(), "keys", "list", "--db", db});
  ASSERT_EQ(list.rc, 0) << list.err;
  EXPECT_NE(list.out.find("access_key=AKIDEXAMPLE1 principal=p1"), std::string::npos);
  EXPECT_NE(list.out.find("revoked=true"), std::string::npos);
  EXPECT_EQ(list.out.find("secret-secret-1"), std::string::npos);  // secrets never printed
  EXPECT_EQ(runCommand({binary(), "keys", "bogus", "--db", db}).rc, 2);
}

TEST(GatewayBinaryTest, ServesAndStopsOnSigterm) {
  const std::string db = dcloud::testing::createTestDatabase();
  const std::string dir = dcloud::testing::makeTempDir();
  CommandResult created = runCommand({binary(), "keys", "create", "--db", db, "--master-key-file",
                                      dir + "/master.key", "--principal", "p1"});
  ASSERT_EQ(created.rc, 0) << created.err;
  const RedisConfig redis = dcloud::testing::testRedisConfig();
  std::vector<std::string> args = {binary(),
                                   "serve",
                                   "--db",
                                   db,
                                   "--redis",
                                   redis.host + ":" + std::to_string(redis.port),
                                   "--data-dir",
                                   dir + "/data",
                                   "--master-key-file",
                                   dir + "/master.key",
                                   "--port",
                                   "0",
                                   "--port-file",
                                   dir + "/port",
                                   "--admin",
                                   "a1",
                                   "--admin",
                                   "a2"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  std::string port;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (port.empty() && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(dir + "/port");
    std::getline(in, port);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(port.empty()) << "the gateway never wrote its port file";
  const std::string endpoint = "http://127.0.0.1:" + port;
  Result<HttpResult> health = httpRequest("GET", endpoint + "/healthz", {}, "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  S3Client client(
      endpoint,
      SigV4Credentials{field(created.out, "access_key"), field(created.out, "secret_key")},
      SystemClock::instance());
  ASSERT_TRUE(client.createBucket("bin-test").ok());
  ASSERT_TRUE(client.putObject("bin-test", "k", "v").ok());
  EXPECT_EQ(*client.getObject("bin-test", "k"), "v");

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(GatewayBinaryTest, ExitsNonZeroWhenTheDatabaseIsUnusable) {
  const std::string dir = dcloud::testing::makeTempDir();
  const RedisConfig redis = dcloud::testing::testRedisConfig();
  CommandResult r = runCommand(
      {binary(), "serve", "--db", "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2",
       "--redis", redis.host + ":" + std::to_string(redis.port), "--data-dir", dir + "/data",
       "--master-key-file", dir + "/master.key"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_EQ(runCommand({binary(), "serve"}).rc, 2);
}

}  // namespace
}  // namespace dcloud::gateway::testing
