// dcloud-scheduler: the region's scheduler. Reads flags (and DCLOUD_* environment variables),
// applies migrations, wires the store, Redis signals, dispatcher and API, and serves until SIGTERM.

#include <iostream>

#include "common/args.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/pg.h"
#include "common/random.h"
#include "common/redis.h"
#include "common/service.h"
#include "scheduler/api.h"

using namespace dcloud;

namespace {
int fail(const std::string& message) {
  Logger("scheduler").error(message);
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  blockTerminationSignals();
  auto args = Args::parse(argc, argv);
  if (!args.ok()) return fail(args.error().message);
  if (Status s = args->requireKnown({"db", "redis", "redis-db", "key", "gateway", "s3-endpoint",
                                     "host", "port", "port-file", "heartbeat-interval-ms",
                                     "heartbeat-timeout-ms"});
      !s.ok()) {
    return fail(s.error().message +
                "\nusage: dcloud-scheduler --db CONNINFO --redis HOST:PORT "
                "--key KEYFILE --gateway URL [--s3-endpoint URL] [--host H] [--port P] "
                "[--port-file F] [--redis-db N] [--heartbeat-interval-ms N] "
                "[--heartbeat-timeout-ms N]");
  }
  const std::string db = args->get("db", "DCLOUD_DB", "");
  const std::string redis_addr = args->get("redis", "DCLOUD_REDIS", "127.0.0.1:6379");
  const std::string key_file = args->get("key", "DCLOUD_SCHEDULER_KEY", "");
  const std::string gateway = args->get("gateway", "DCLOUD_GATEWAY_URL", "");
  if (db.empty() || key_file.empty() || gateway.empty()) {
    return fail("--db, --key and --gateway are required");
  }
  auto key = KeyPair::load(key_file);
  if (!key.ok()) return fail(key.error().message);
  auto port = args->getInt("port", 0);
  auto redis_db = args->getInt("redis-db", 0);
  auto hb_interval = args->getInt("heartbeat-interval-ms", 2000);
  auto hb_timeout = args->getInt("heartbeat-timeout-ms", 10000);
  if (!port.ok() || !redis_db.ok() || !hb_interval.ok() || !hb_timeout.ok()) {
    return fail("numeric options must be integers");
  }

  Logger log("scheduler");
  if (Status s = applyEmbeddedMigrations(db, log); !s.ok()) return fail(s.error().message);
  auto pool = PgPool::connect(db, 32);
  if (!pool.ok()) return fail(pool.error().message);
  RedisConfig redis_config;
  redis_config.host = redis_addr.substr(0, redis_addr.rfind(':'));
  redis_config.port = std::atoi(redis_addr.substr(redis_addr.rfind(':') + 1).c_str());
  redis_config.db = static_cast<int>(*redis_db);
  redis_config.pool_size = 320;  // more than server threads: long polls hold one each
  auto redis = RedisPool::connect(redis_config);
  if (!redis.ok()) return fail(redis.error().message);

  SystemClock& clock = SystemClock::instance();
  SecureRandom& random = SecureRandom::instance();
  MetricsRegistry metrics;
  scheduler::SchedulerStore store(**pool);
  // The dispatcher has connections of its own: planning must not queue behind hundreds of worker
  // calls for the API's pool.
  auto dispatch_pool = PgPool::connect(db, 2);
  if (!dispatch_pool.ok()) return fail(dispatch_pool.error().message);
  scheduler::SchedulerStore dispatch_store(**dispatch_pool);
  scheduler::RedisWorkerSignals signals(*redis);
  RedisNonceStore nonces(*redis);
  RequestVerifier verifier(clock, nonces);
  scheduler::HttpGatewayAdmin gateway_http(ApiClient(gateway, &*key, clock, random));
  // Credentials are minted once per job scope every few minutes, not once per lease.
  scheduler::CachingGatewayAdmin gateway_admin(gateway_http, clock);
  scheduler::DispatcherConfig dispatch_config;
  dispatch_config.heartbeat_timeout_millis = *hb_timeout;
  scheduler::Dispatcher dispatcher(dispatch_config, dispatch_store, signals, clock, metrics);
  scheduler::ApiConfig api_config;
  api_config.s3_endpoint = args->get("s3-endpoint", "DCLOUD_S3_ENDPOINT", gateway);
  api_config.heartbeat_interval_millis = *hb_interval;
  api_config.heartbeat_timeout_millis = *hb_timeout;
  scheduler::RedisJobEvents events(*redis);
  scheduler::ApiDeps deps{api_config, store,  signals, dispatcher, gateway_admin,
                          clock,      random, metrics, events};
  ApiServerConfig server_config;
  server_config.name = "scheduler";
  server_config.host = args->get("host", "", "127.0.0.1");
  server_config.port = static_cast<std::uint16_t>(*port);
  server_config.max_threads = 256;  // leases are long polls
  ApiServer server(server_config, scheduler::makeSchedulerRouter(deps), &verifier, metrics,
                   [&]() -> Status {
                     return (*pool)->withStatus([](pqxx::connection& c) -> Status {
                       pqxx::nontransaction w(c);
                       w.exec("SELECT 1");
                       return okStatus();
                     });
                   });
  if (Status s = server.start(); !s.ok()) return fail(s.error().message);
  if (auto f = args->get("port-file")) {
    if (Status s = writePortFile(*f, server.port()); !s.ok()) return fail(s.error().message);
  }
  dispatcher.start();
  log.info("scheduler " + key->id().substr(0, 16) + " ready");
  const int sig = waitForTerminationSignal();
  log.info("signal " + std::to_string(sig) + ": stopping");
  server.stop();
  dispatcher.stop();
  return 0;
}
