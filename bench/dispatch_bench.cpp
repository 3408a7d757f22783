// Dispatch benchmark, end to end and durable: the real scheduler (wired in-process as
// scheduler/main.cpp wires it, dispatcher thread running), the real storage gateway binary (the
// scheduler mints credentials there per delivered task), PostgreSQL and Redis. Simulated workers
// register over the signed API, long-poll for leases and complete every task at once with a valid
// signed usage receipt, running nothing, asking for the next task in the completion call (one
// round trip per task, as a one-slot worker does). Prints key=value lines. Usage:
//   dcloud-bench-dispatch --db CONNINFO --redis HOST:PORT --gateway-bin PATH --dir DIR
//                         [--workers N] [--jobs J] [--tasks-per-job T]
//                         [--latency-tasks N] [--latency-rate PER_S]
//
// Two phases. Throughput: J jobs of T tasks are queued at once and the workers drain them
// (tasks_per_s). Latency: then, with every worker idle, single-task jobs arrive at latency-rate per
// second (lease_p50_ms, lease_p99_ms).
//
// Latency of a lease: from the moment both the task was ready (taken as the moment its job's insert
// was sent, so the insert and its commit count against the scheduler) and the worker was idle (it
// sent its lease request), to the moment the lease response reached the worker. In the throughput
// phase every worker is busy in a closed loop, so that figure is queueing (cycle time = workers /
// rate) and is printed as saturated_lease_*; the latency phase measures dispatch itself.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/args.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/pg.h"
#include "common/receipt.h"
#include "common/redis.h"
#include "scheduler/api.h"
#include "scheduler/job_json.h"

extern char** environ;

using namespace dcloud;
using namespace dcloud::scheduler;
using Steady = std::chrono::steady_clock;

namespace {

double msSince(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

int fail(const std::string& message) {
  std::fprintf(stderr, "dispatch bench: %s\n", message.c_str());
  return 1;
}

// The gateway binary with the scheduler's key as admin; returns its pid and URL.
Result<std::pair<pid_t, std::string>> startGateway(const std::string& bin, const std::string& db,
                                                   const std::string& redis, const std::string& dir,
                                                   const std::string& admin) {
  std::vector<std::string> args = {bin,
                                   "serve",
                                   "--db",
                                   db,
                                   "--redis",
                                   redis,
                                   "--redis-db",
                                   "1",
                                   "--data-dir",
                                   dir + "/gateway-data",
                                   "--master-key-file",
                                   dir + "/master.key",
                                   "--port",
                                   "0",
                                   "--port-file",
                                   dir + "/gateway.port",
                                   "--admin",
                                   admin};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = dir + "/gateway.log";
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return internalError("cannot start " + bin);
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  while (Steady::now() < deadline) {
    std::ifstream in(dir + "/gateway.port");
    std::string port;
    std::getline(in, port);
    if (!port.empty()) return std::make_pair(pid, "http://127.0.0.1:" + port);
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) != 0) return internalError("the gateway exited early");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  return internalError("the gateway never wrote its port file");
}

struct Shared {
  std::string url;
  const KeyPair* provider = nullptr;
  std::int64_t total = 0;
  std::atomic<std::int64_t> completed{0};
  std::atomic<std::int64_t> errors{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  struct Ready {
    Steady::time_point at;
    int phase = 0;
  };
  std::unordered_map<std::string, Ready> ready;  // job id -> commit seen
  std::vector<double> latencies_ms[2];           // per phase
};

// One simulated worker: lease, then complete each task at once with a signed receipt, asking in
// the same call for the next one (as a one-slot worker does); lease again only when that call
// brought nothing.
void workerLoop(Shared& sh, const std::string& worker_id) {
  ApiClient client(sh.url, sh.provider, SystemClock::instance(), SecureRandom::instance());
  const std::string lease_path = "/v1/workers/" + worker_id + "/lease";
  std::vector<double> mine[2];
  std::vector<JsonObject> in_hand;
  // Tasks of a lease or completion response; the latency of each from the later of its job's
  // insert and the moment this worker went idle (sent the request).
  auto receive = [&](const std::string& body, Steady::time_point idle_since,
                     Steady::time_point got) {
    auto obj = parseJsonObject(body);
    if (!obj.ok()) return;
    auto tasks = getOptionalArray(*obj, "tasks");
    if (!tasks.ok() || !tasks->has_value()) return;
    for (std::size_t i = 0; i < (**tasks)->size(); ++i) {
      JsonObject t = (**tasks)->getObject(static_cast<unsigned>(i));
      {
        std::lock_guard lock(sh.mutex);
        auto it = sh.ready.find(*getString(t, "job_id"));
        if (it != sh.ready.end()) {
          mine[it->second.phase].push_back(msSince(std::max(it->second.at, idle_since), got));
        }
      }
      in_hand.push_back(t);
    }
  };
  while (!sh.stop.load()) {
    if (in_hand.empty()) {
      const auto idle_since = Steady::now();
      auto r = client.raw("POST", lease_path, R"({"wait_ms": 20000})");
      if (!r.ok() || r->status != 200) {
        sh.errors.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      receive(r->body, idle_since, Steady::now());
      continue;
    }
    JsonObject t = in_hand.back();
    in_hand.pop_back();
    UsageReceipt receipt;
    receipt.receipt_id = *getString(t, "attempt_id");
    receipt.task_id = *getString(t, "task_id");
    receipt.job_id = *getString(t, "job_id");
    receipt.worker_id = worker_id;
    receipt.provider = sh.provider->id();
    receipt.wall_millis = 1;
    JsonObject body = new Poco::JSON::Object;
    body->set("attempt_id", receipt.receipt_id);
    body->set("status", "succeeded");
    body->set("exit_code", 0);
    body->set("receipt", receiptToJson(receipt));
    body->set("receipt_signature", signReceipt(receipt, *sh.provider));
    if (in_hand.empty()) body->set("lease_wait_ms", 20000);
    const auto idle_since = Steady::now();
    auto done =
        client.raw("POST", "/v1/workers/" + worker_id + "/tasks/" + receipt.task_id + "/complete",
                   toJson(body));
    if (!done.ok() || done->status != 200) {
      sh.errors.fetch_add(1);
      continue;
    }
    if (sh.completed.fetch_add(1) + 1 >= sh.total) sh.stop.store(true);
    receive(done->body, idle_since, Steady::now());
  }
  std::lock_guard lock(sh.mutex);
  for (int p = 0; p < 2; ++p) {
    sh.latencies_ms[p].insert(sh.latencies_ms[p].end(), mine[p].begin(), mine[p].end());
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  auto args = Args::parse(argc, argv);
  if (!args.ok()) return fail(args.error().message);
  if (Status s = args->requireKnown({"db", "redis", "gateway-bin", "dir", "workers", "jobs",
                                     "tasks-per-job", "latency-tasks", "latency-rate"});
      !s.ok()) {
    return fail(s.error().message);
  }
  const std::string db = args->get("db", "", "");
  const std::string redis_addr = args->get("redis", "", "");
  const std::string gateway_bin = args->get("gateway-bin", "", "");
  const std::string dir = args->get("dir", "", "");
  auto workers = args->getInt("workers", 1000);
  auto jobs = args->getInt("jobs", 100);
  auto per_job = args->getInt("tasks-per-job", 1000);
  auto latency_tasks = args->getInt("latency-tasks", 1000);
  auto latency_rate = args->getInt("latency-rate", 100);
  if (db.empty() || redis_addr.empty() || gateway_bin.empty() || dir.empty())
    return fail("--db, --redis, --gateway-bin and --dir are required");
  if (!workers.ok() || !jobs.ok() || !per_job.ok() || !latency_tasks.ok() || !latency_rate.ok() ||
      *latency_rate < 1) {
    return fail("counts must be integers (rate at least 1)");
  }

  Logger log("bench");
  if (Status s = applyEmbeddedMigrations(db, log); !s.ok()) return fail(s.error().message);
  KeyPair scheduler_key = KeyPair::generate();
  auto gw = startGateway(gateway_bin, db, redis_addr, dir, scheduler_key.id());
  if (!gw.ok()) return fail(gw.error().message);
  const pid_t gateway_pid = gw->first;
  const std::string gateway_url = gw->second;

  // Wired as scheduler/main.cpp wires it.
  auto pool = PgPool::connect(db, 32);
  if (!pool.ok()) return fail(pool.error().message);
  RedisConfig redis_config;
  redis_config.host = redis_addr.substr(0, redis_addr.rfind(':'));
  redis_config.port = std::atoi(redis_addr.substr(redis_addr.rfind(':') + 1).c_str());
  redis_config.pool_size = static_cast<int>(*workers) + 64;  // long polls hold one each
  auto redis = RedisPool::connect(redis_config);
  if (!redis.ok()) return fail(redis.error().message);
  SystemClock& clock = SystemClock::instance();
  SecureRandom& random = SecureRandom::instance();
  MetricsRegistry metrics;
  SchedulerStore store(**pool);
  auto dispatch_pool = PgPool::connect(db, 2);
  if (!dispatch_pool.ok()) return fail(dispatch_pool.error().message);
  SchedulerStore dispatch_store(**dispatch_pool);
  RedisWorkerSignals signals(*redis);
  RedisNonceStore nonces(*redis);
  RequestVerifier verifier(clock, nonces);
  HttpGatewayAdmin gateway_http(ApiClient(gateway_url, &scheduler_key, clock, random));
  CachingGatewayAdmin gateway_admin(gateway_http, clock);
  DispatcherConfig dispatch_config;
  dispatch_config.heartbeat_timeout_millis = 3'600'000;  // simulated workers send no heartbeats
  Dispatcher dispatcher(dispatch_config, dispatch_store, signals, clock, metrics);
  ApiConfig api_config;
  api_config.s3_endpoint = gateway_url;
  api_config.heartbeat_timeout_millis = dispatch_config.heartbeat_timeout_millis;
  RedisJobEvents events(*redis);
  ApiDeps deps{api_config, store,  signals, dispatcher, gateway_admin,
               clock,      random, metrics, events};
  ApiServerConfig server_config;
  server_config.name = "scheduler";
  server_config.max_threads = static_cast<int>(*workers) + 64;
  server_config.max_queued = static_cast<int>(*workers) + 64;
  ApiServer server(server_config, makeSchedulerRouter(deps), &verifier, metrics,
                   [] { return okStatus(); });
  if (Status s = server.start(); !s.ok()) return fail(s.error().message);
  dispatcher.start();

  KeyPair owner = KeyPair::generate();
  KeyPair provider = KeyPair::generate();
  Shared sh;
  sh.url = "http://127.0.0.1:" + std::to_string(server.port());
  sh.provider = &provider;
  const std::int64_t throughput_tasks = *jobs * *per_job;
  sh.total = throughput_tasks + *latency_tasks;
  {
    pqxx::connection c(db);
    pqxx::work w(c);
    w.exec_params0("INSERT INTO ledger.accounts (id, balance, reputation) VALUES ($1, $2, 0)",
                   owner.id(), static_cast<Micros>(1) << 60);
    w.commit();
  }
  const std::string bucket = "u-" + owner.id().substr(0, 16);
  if (Status s = gateway_admin.ensureBucket(owner.id(), bucket); !s.ok())
    return fail(s.error().message);

  // Register the workers (signed API calls), a few threads at a time.
  std::vector<std::string> worker_ids(static_cast<std::size_t>(*workers));
  {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> regs;
    for (int t = 0; t < 8; ++t) {
      regs.emplace_back([&] {
        ApiClient client(sh.url, &provider, clock, random);
        for (std::size_t i = next++; i < worker_ids.size(); i = next++) {
          auto r =
              client.call("POST", "/v1/workers",
                          *parseJsonObject(R"({"hostname": "sim", "cores": 1, )"
                                           R"("memory_mb": 1024, "prices": {"cpu": "0.01"}})"));
          if (r.ok()) worker_ids[i] = *getString(*r, "worker_id");
        }
      });
    }
    for (auto& t : regs) t.join();
    for (const auto& id : worker_ids)
      if (id.empty()) return fail("a worker failed to register");
  }
  std::vector<std::thread> threads;
  threads.reserve(worker_ids.size());
  for (const auto& id : worker_ids) threads.emplace_back(workerLoop, std::ref(sh), id);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the long polls settle

  // Jobs of tasks-per-job command tasks each, inserted as the API's submit inserts them (the
  // API's command job has one task; the store takes any number).
  const auto start = Steady::now();
  core::JobSpec spec;
  spec.kind = core::JobKind::kCommand;
  spec.name = "bench";
  spec.command = {"true"};
  spec.resources = {1, 256, 0, 0};
  spec.max_price = kMicrosPerCredit;
  spec.timeout_seconds = 60;
  auto submit = [&](int tasks, int phase) -> Status {
    NewJob job;
    job.id = random.uuid();
    job.owner = owner.id();
    job.spec = spec;
    job.spec_json = specToJson(spec);
    job.output_bucket = bucket;
    job.output_prefix = "jobs/" + job.id + "/";
    for (int i = 0; i < tasks; ++i) {
      core::TaskPlan p;
      p.index = i;
      job.tasks.push_back(p);
      job.task_ids.push_back(random.uuid());
    }
    job.hold = 0;
    {
      std::lock_guard lock(sh.mutex);
      sh.ready[job.id] = {Steady::now(), phase};
    }
    if (Status s = store.createJob(job); !s.ok()) return s;
    gateway_admin.prefetchCredentials(job.owner, job.output_bucket,
                                      taskGrants(spec, job.output_bucket, job.output_prefix),
                                      taskCredentialTtlSeconds(spec));
    // As the API's submit does with tasks ready at once: straight into the dispatcher's queue.
    core::TaskDemand demand{spec.resources, spec.max_price, spec.min_reputation};
    std::vector<core::QueuedTask> ready;
    const std::int64_t now_ms = clock.nowMillis();
    for (const std::string& task_id : job.task_ids) {
      ready.emplace_back(task_id, job.owner, demand, job.id, spec.priority, now_ms);
    }
    dispatcher.submitted(std::move(ready));
    return okStatus();
  };
  // The ledger adapter settles charges as they come in a region; without it the unsettled outbox
  // would grow by a row per task and every submit's balance check sum it. This stands in for it
  // (marking charges settled; balances need not move, the owner is funded for the whole run).
  std::thread settler([&] {
    try {
      pqxx::connection c(db);
      while (!sh.stop.load()) {
        pqxx::work w(c);
        w.exec0("UPDATE scheduler.outbox SET settled_at = now() WHERE settled_at IS NULL");
        w.commit();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dispatch bench: settling stopped: %s\n", e.what());
    }
  });
  struct StopAndJoin {
    Shared& sh;
    std::thread& t;
    ~StopAndJoin() {
      sh.stop.store(true);
      if (t.joinable()) t.join();
    }
  } settler_guard{sh, settler};
  for (std::int64_t j = 0; j < *jobs; ++j) {
    if (Status s = submit(static_cast<int>(*per_job), 0); !s.ok()) return fail(s.error().message);
  }
  while (sh.completed.load() < throughput_tasks && sh.errors.load() < 1000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double seconds = msSince(start, Steady::now()) / 1000.0;
  const std::int64_t throughput_done = sh.completed.load();

  // Latency: single-task jobs at a steady rate onto idle workers.
  const auto latency_start = Steady::now();
  for (std::int64_t i = 0; i < *latency_tasks; ++i) {
    std::this_thread::sleep_until(latency_start +
                                  std::chrono::microseconds(1'000'000 * i / *latency_rate));
    if (Status s = submit(1, 1); !s.ok()) return fail(s.error().message);
  }
  // A task lost on the way (an error above) would keep the workers polling forever.
  const auto deadline = Steady::now() + std::chrono::seconds(60);
  while (sh.completed.load() < sh.total && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sh.stop.store(true);
  for (auto& t : threads) t.join();

  server.stop();
  dispatcher.stop();
  kill(gateway_pid, SIGTERM);
  int status = 0;
  waitpid(gateway_pid, &status, 0);

  std::printf("tasks=%lld\n", static_cast<long long>(throughput_done));
  std::printf("workers=%lld\n", static_cast<long long>(*workers));
  std::printf("seconds=%.3f\n", seconds);
  std::printf("tasks_per_s=%.1f\n", static_cast<double>(throughput_done) / seconds);
  std::printf("saturated_lease_p50_ms=%.2f\n", percentile(sh.latencies_ms[0], 0.50));
  std::printf("saturated_lease_p99_ms=%.2f\n", percentile(sh.latencies_ms[0], 0.99));
  std::printf("latency_tasks=%lld\n", static_cast<long long>(sh.latencies_ms[1].size()));
  std::printf("latency_rate_per_s=%lld\n", static_cast<long long>(*latency_rate));
  std::printf("lease_p50_ms=%.2f\n", percentile(sh.latencies_ms[1], 0.50));
  std::printf("lease_p99_ms=%.2f\n", percentile(sh.latencies_ms[1], 0.99));
  std::printf("lease_max_ms=%.2f\n", percentile(sh.latencies_ms[1], 1.0));
  std::printf("errors=%lld\n", static_cast<long long>(sh.errors.load()));
  return 0;
}
