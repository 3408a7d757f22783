// The running adapter: settlement woken by NOTIFY, the HTTP API, and the binary's SIGTERM stop.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/http_client.h"
#include "ledger-adapter/ledger_service.h"
#include "tests/integration/ledger-adapter/outbox_fixture.h"

extern char** environ;

namespace dcloud::ledger {
namespace {

// Polls cond every 20 ms for at most timeout; true when it held.
template <typename Cond>
bool waitFor(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

JsonObject getJson(std::uint16_t port, const std::string& path, int expect_status = 200) {
  Result<HttpResult> r =
      httpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + path, {}, "");
  EXPECT_TRUE(r) << path;
  if (!r) return nullptr;
  EXPECT_EQ(r->status, expect_status) << path << " " << r->body;
  Result<JsonObject> obj = parseJsonObject(r->body);
  EXPECT_TRUE(obj) << r->body;
  return obj ? *obj : nullptr;
}

using ServiceTest = OutboxFixture;

TEST_F(ServiceTest, NotifySettlesPromptlyAndApiServesTheChain) {
  LedgerServiceConfig config;
  config.conninfo = conninfo_;
  config.poll_millis = 600'000;  // only the NOTIFY can wake it in time
  LedgerService service(config, ledger_key_, SystemClock::instance());
  ASSERT_TRUE(service.start());
  EXPECT_EQ(service.treasury(), ledger_key_.id());
  ASSERT_EQ(scalar("SELECT count(*) FROM ledger.blocks"), "1");  // genesis

  const std::string owner = KeyPair::generate().id();
  KeyPair provider = KeyPair::generate();
  ASSERT_TRUE(store_->append({makeMint(owner, 3'000'000)}));
  // The first drain runs at start; give the listener a moment by polling for it is not needed:
  // the row below is inserted after LISTEN may or may not be active, so NOTIFY until settled.
  const std::string receipt = addReceipt(owner, provider, 1'000'000);
  ASSERT_TRUE(waitFor([&] {
    exec("NOTIFY dcloud_outbox");
    return scalar("SELECT settled_at IS NOT NULL FROM scheduler.outbox WHERE receipt_id = '" +
                  receipt + "'") == "t";
  }));

  const std::uint16_t port = service.port();
  JsonObject acct = getJson(port, "/v1/accounts/" + provider.id());
  ASSERT_TRUE(acct);
  EXPECT_EQ(acct->getValue<std::string>("id"), provider.id());
  EXPECT_EQ(acct->getValue<std::string>("balance"), "0.98");
  EXPECT_EQ(acct->getValue<Poco::Int64>("balance_micros"), 980'000);
  EXPECT_EQ(acct->getValue<std::string>("reputation"), "0.02");
  EXPECT_EQ(acct->getValue<Poco::Int64>("reputation_micros"), 20'000);
  JsonObject treasury = getJson(port, "/v1/accounts/" + ledger_key_.id());
  ASSERT_TRUE(treasury);
  EXPECT_EQ(treasury->getValue<Poco::Int64>("balance_micros"), 20'000);

  JsonObject chain = getJson(port, "/v1/chain");
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->getValue<Poco::Int64>("height"), 2);
  JsonObject block = getJson(port, "/v1/blocks/2");
  ASSERT_TRUE(block);
  EXPECT_EQ(block->getValue<std::string>("hash"), chain->getValue<std::string>("head_hash"));
  EXPECT_EQ(block->getArray("transactions")->size(), 1u);
  getJson(port, "/v1/blocks/99", 404);
  getJson(port, "/v1/blocks/x", 400);
  getJson(port, "/v1/accounts/bad%20id", 400);

  Result<HttpResult> metrics =
      httpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics", {}, "");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ledger_settlements_total 1"), std::string::npos) << metrics->body;
  service.stop();
}

TEST_F(ServiceTest, BinaryServesAndStopsOnSigterm) {
  const std::string dir = testing::makeTempDir();
  const std::string key_file = dir + "/ledger.key";
  const std::string port_file = dir + "/port";
  ASSERT_TRUE(ledger_key_.save(key_file));
  const std::string binary = testing::binaryDir() + "/bin/dcloud-ledger";
  std::vector<std::string> args = {binary,   "serve",       "--db",    conninfo_,   "--key",
                                   key_file, "--port-file", port_file, "--poll-ms", "50"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), environ), 0);

  std::string port_text;
  ASSERT_TRUE(waitFor([&] {
    std::ifstream in(port_file);
    return static_cast<bool>(in >> port_text);
  }));
  const auto port = static_cast<std::uint16_t>(std::stoi(port_text));
  Result<HttpResult> health =
      httpRequest("GET", "http://127.0.0.1:" + port_text + "/healthz", {}, "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // The poll timer alone settles a row nobody NOTIFYed about.
  const std::string receipt = addReceipt(KeyPair::generate().id(), KeyPair::generate(), 500);
  EXPECT_TRUE(waitFor([&] {
    return scalar("SELECT block_height FROM scheduler.outbox WHERE receipt_id = '" + receipt +
                  "'") == "1";
  }));
  JsonObject chain = getJson(port, "/v1/chain");
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->getValue<Poco::Int64>("height"), 1);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ServiceTest, ServeFailsOnUnreachableDatabase) {
  const std::string dir = testing::makeTempDir();
  ASSERT_TRUE(ledger_key_.save(dir + "/k"));
  const std::string cmd = "'" + testing::binaryDir() + "/bin/dcloud-ledger' serve --db " +
                          "'host=127.0.0.1 port=1 connect_timeout=2' --key '" + dir +
                          "/k' >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace dcloud::ledger
