#include "tests/integration/scheduler/scheduler_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/test_env.h"

extern char** environ;

namespace dcloud::scheduler::testing {

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string commandJob(const std::string& max_price, const std::string& extra) {
  return R"({"kind": "command", "command": ["echo", "hi"], "max_price": ")" + max_price +
         R"(", "timeout_seconds": 3600, "resources": {"cores": 1, "memory_mb": 512})" + extra + "}";
}

void SchedulerTest::SetUp() {
  db_ = dcloud::testing::createMigratedTestDatabase();
  dir_ = dcloud::testing::makeTempDir();
  const RedisConfig redis_config = dcloud::testing::testRedisConfig();

  // The real gateway binary, with the scheduler's key as its admin.
  std::vector<std::string> args = {dcloud::testing::binaryDir() + "/bin/dcloud-gateway",
                                   "serve",
                                   "--db",
                                   db_,
                                   "--redis",
                                   redis_config.host + ":" + std::to_string(redis_config.port),
                                   "--redis-db",
                                   std::to_string(redis_config.db),
                                   "--data-dir",
                                   dir_ + "/data",
                                   "--master-key-file",
                                   dir_ + "/master.key",
                                   "--port",
                                   "0",
                                   "--port-file",
                                   dir_ + "/gateway.port",
                                   "--admin",
                                   scheduler_key_.id()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = dir_ + "/gateway.log";
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int spawned = posix_spawn(&gateway_pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0) << "cannot start " << args[0];
  std::string port;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (port.empty() && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(dir_ + "/gateway.port");
    std::getline(in, port);
    if (!port.empty()) break;
    int status = 0;
    ASSERT_EQ(waitpid(gateway_pid_, &status, WNOHANG), 0) << "the gateway exited early:\n"
                                                          << readFile(log_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(port.empty()) << "the gateway never wrote its port file:\n" << readFile(log_path);
  gateway_url_ = "http://127.0.0.1:" + port;

  // The scheduler, wired as scheduler/main.cpp wires it.
  auto pool = PgPool::connect(db_, 16);
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  pool_ = std::move(*pool);
  auto redis = RedisPool::connect(redis_config);
  ASSERT_TRUE(redis.ok()) << redis.error().message;
  redis_ = *redis;
  const HarnessOptions opts = options();
  store_ = std::make_unique<SchedulerStore>(*pool_);
  signals_ = std::make_unique<RedisWorkerSignals>(redis_);
  nonces_ = std::make_unique<RedisNonceStore>(redis_);
  verifier_ = std::make_unique<RequestVerifier>(clock_, *nonces_);
  gateway_admin_ =
      std::make_unique<HttpGatewayAdmin>(ApiClient(gateway_url_, &scheduler_key_, clock_, random_));
  DispatcherConfig dispatch_config;
  dispatch_config.heartbeat_timeout_millis = opts.heartbeat_timeout_millis;
  dispatcher_ = std::make_unique<Dispatcher>(dispatch_config, *store_, *signals_, clock_, metrics_);
  ApiConfig api_config;
  api_config.s3_endpoint = gateway_url_;
  api_config.heartbeat_interval_millis =
      std::max<std::int64_t>(1, opts.heartbeat_timeout_millis / 5);
  api_config.heartbeat_timeout_millis = opts.heartbeat_timeout_millis;
  api_config.lost_lease_grace_seconds = opts.lost_lease_grace_seconds;
  api_config.limits.max_queued_tasks_per_owner = opts.max_queued_tasks_per_owner;
  events_ = std::make_unique<RedisJobEvents>(redis_);
  deps_.reset(new ApiDeps{api_config, *store_, *signals_, *dispatcher_, *gateway_admin_, clock_,
                          random_, metrics_, *events_});
  ApiServerConfig server_config;
  server_config.name = "scheduler";
  server_config.port = 0;
  server_config.max_threads = 32;
  server_ = std::make_unique<ApiServer>(server_config, makeSchedulerRouter(*deps_), verifier_.get(),
                                        metrics_, [] { return okStatus(); });
  Status started = server_->start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  url_ = "http://127.0.0.1:" + std::to_string(server_->port());
}

void SchedulerTest::TearDown() {
  if (server_) server_->stop();
  if (dispatcher_) dispatcher_->stop();
  if (gateway_pid_ > 0) {
    kill(gateway_pid_, SIGTERM);
    int status = 0;
    waitpid(gateway_pid_, &status, 0);
    gateway_pid_ = -1;
  }
}

HttpResult SchedulerTest::post(const KeyPair& key, const std::string& path,
                               const std::string& body) {
  auto r = ApiClient(url_, &key, clock_, random_).raw("POST", path, body);
  EXPECT_TRUE(r.ok()) << "POST " << path << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : HttpResult{};
}

HttpResult SchedulerTest::get(const KeyPair& key, const std::string& path) {
  auto r = ApiClient(url_, &key, clock_, random_).raw("GET", path, "");
  EXPECT_TRUE(r.ok()) << "GET " << path << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : HttpResult{};
}

JsonObject SchedulerTest::json(const HttpResult& r) {
  auto obj = parseJsonObject(r.body);
  EXPECT_TRUE(obj.ok()) << "not JSON (HTTP " << r.status << "): " << r.body;
  return obj.ok() ? *obj : JsonObject(new Poco::JSON::Object);
}

std::string SchedulerTest::errorStatus(const HttpResult& r) {
  auto s = getOptionalString(json(r), "status");
  return s.ok() ? s->value_or("") : "";
}

void SchedulerTest::fund(const std::string& id, Micros balance, Micros reputation) {
  pqxx::connection c(db_);
  pqxx::work w(c);
  w.exec_params0(
      "INSERT INTO ledger.accounts (id, balance, reputation) VALUES ($1, $2, $3) "
      "ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, "
      "reputation = EXCLUDED.reputation",
      id, balance, reputation);
  w.commit();
}

std::int64_t SchedulerTest::sqlInt(const std::string& query) {
  pqxx::connection c(db_);
  pqxx::nontransaction w(c);
  return w.exec1(query)[0].as<std::int64_t>();
}

std::string SchedulerTest::sqlText(const std::string& query) {
  pqxx::connection c(db_);
  pqxx::nontransaction w(c);
  auto row = w.exec1(query);
  return row[0].is_null() ? "" : row[0].as<std::string>();
}

std::string SchedulerTest::registerWorker(const KeyPair& provider, int cores,
                                          const std::string& cpu_price, std::int64_t memory_mb) {
  HttpResult r =
      post(provider, "/v1/workers",
           R"({"hostname": "test-host", "cores": )" + std::to_string(cores) + R"(, "memory_mb": )" +
               std::to_string(memory_mb) + R"(, "prices": {"cpu": ")" + cpu_price + R"("}})");
  EXPECT_EQ(r.status, 201) << r.body;
  auto id = getString(json(r), "worker_id");
  EXPECT_TRUE(id.ok()) << r.body;
  return id.ok() ? *id : "";
}

std::string SchedulerTest::submit(const KeyPair& owner, const std::string& body) {
  HttpResult r = post(owner, "/v1/jobs", body);
  EXPECT_EQ(r.status, 201) << r.body;
  auto id = getString(json(r), "id");
  EXPECT_TRUE(id.ok()) << r.body;
  return id.ok() ? *id : "";
}

std::vector<Lease> SchedulerTest::lease(const KeyPair& provider, const std::string& worker,
                                        int wait_ms) {
  HttpResult r = post(provider, "/v1/workers/" + worker + "/lease",
                      R"({"wait_ms": )" + std::to_string(wait_ms) + "}");
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Lease> out;
  auto tasks = getOptionalArray(json(r), "tasks");
  if (!tasks.ok() || !tasks->has_value()) return out;
  for (std::size_t i = 0; i < (**tasks)->size(); ++i) {
    Lease l;
    l.raw = (**tasks)->getObject(static_cast<unsigned>(i));
    l.task_id = *getString(l.raw, "task_id");
    l.attempt_id = *getString(l.raw, "attempt_id");
    l.job_id = *getString(l.raw, "job_id");
    out.push_back(l);
  }
  return out;
}

HttpResult SchedulerTest::heartbeat(const KeyPair& provider, const std::string& worker,
                                    const std::vector<std::string>& running) {
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& a : running) arr->add(a);
  JsonObject body = new Poco::JSON::Object;
  body->set("running", arr);
  return post(provider, "/v1/workers/" + worker + "/heartbeat", toJson(body));
}

UsageReceipt SchedulerTest::receiptFor(const KeyPair& provider, const std::string& worker,
                                       const Lease& lease, std::int64_t wall_millis) {
  UsageReceipt r;
  r.receipt_id = lease.attempt_id;
  r.task_id = lease.task_id;
  r.job_id = lease.job_id;
  r.worker_id = worker;
  r.provider = provider.id();
  r.cpu_millis = wall_millis / 2;
  r.wall_millis = wall_millis;
  r.peak_memory_bytes = 1 << 20;
  r.bytes_out = 42;
  r.exit_code = 0;
  return r;
}

HttpResult SchedulerTest::complete(const KeyPair& provider, const std::string& worker,
                                   const Lease& lease, const UsageReceipt& receipt,
                                   const KeyPair& signer, std::optional<int> lease_wait_ms) {
  JsonObject body = new Poco::JSON::Object;
  body->set("attempt_id", lease.attempt_id);
  body->set("status", "succeeded");
  body->set("exit_code", 0);
  body->set("outputs", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
  body->set("receipt", receiptToJson(receipt));
  body->set("receipt_signature", signReceipt(receipt, signer));
  if (lease_wait_ms) body->set("lease_wait_ms", *lease_wait_ms);
  return post(provider, "/v1/workers/" + worker + "/tasks/" + lease.task_id + "/complete",
              toJson(body));
}

JsonObject SchedulerTest::job(const KeyPair& owner, const std::string& job_id) {
  HttpResult r = get(owner, "/v1/jobs/" + job_id);
  EXPECT_EQ(r.status, 200) << r.body;
  return json(r);
}

}  // namespace dcloud::scheduler::testing
