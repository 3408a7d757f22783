#include <iostream>
#include <memory>
#include <set>

#include "common/args.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pg.h"
#include "common/random.h"
#include "common/redis.h"
#include "common/service.h"
#include "common/signed_request.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/commands.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/local_object_store.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/pg_metadata_store.h"

namespace dcloud::gateway {
namespace {

int fail(const Logger& log, const std::string& what) {
  log.error(what);
  return 1;
}

int usageError(const Logger& log, const std::string& what) {
  log.error(what);
  return 2;
}

}  // namespace

int runServe(const std::vector<std::string>& argv) {
  Logger log("gateway");
  Result<Args> args = Args::parse(argv);
  if (!args.ok()) return usageError(log, args.error().message);
  Status known = args->requireKnown({"db", "redis", "redis-db", "data-dir", "master-key-file",
                                     "host", "port", "port-file", "region", "admin"});
  if (!known.ok()) return usageError(log, known.error().message);
  for (const char* required : {"db", "redis", "data-dir", "master-key-file"}) {
    if (!args->has(required)) {
      return usageError(log, std::string("serve needs --") + required);
    }
  }
  const std::string db = *args->get("db");
  GatewayConfig config;
  config.host = args->get("host").value_or("127.0.0.1");
  config.region = args->get("region").value_or("us-east-1");
  for (const std::string& admin : repeatedOption(argv, "admin")) config.admins.insert(admin);
  Result<long long> port = args->getInt("port", 0);
  if (!port.ok() || *port < 0 || *port > 65535) return usageError(log, "--port: bad port");
  config.port = static_cast<std::uint16_t>(*port);

  RedisConfig redis_config;
  const std::string redis = *args->get("redis");
  const std::size_t colon = redis.rfind(':');
  redis_config.host = redis.substr(0, colon);
  try {
    if (colon != std::string::npos) redis_config.port = std::stoi(redis.substr(colon + 1));
  } catch (const std::exception&) {
    return usageError(log, "--redis: expected HOST:PORT");
  }
  Result<long long> redis_db = args->getInt("redis-db", 0);
  if (!redis_db.ok()) return usageError(log, "--redis-db: " + redis_db.error().message);
  redis_config.db = static_cast<int>(*redis_db);

  if (Status st = applyEmbeddedMigrations(db, log); !st.ok()) {
    return fail(log, "migrations failed: " + st.error().toString());
  }
  Result<std::unique_ptr<PgPool>> pg = PgPool::connect(db, 16);
  if (!pg.ok()) return fail(log, "database: " + pg.error().toString());
  std::shared_ptr<PgPool> pool(std::move(*pg));
  Result<std::shared_ptr<RedisPool>> redis_pool = RedisPool::connect(redis_config);
  if (!redis_pool.ok()) return fail(log, "redis: " + redis_pool.error().toString());
  Random& random = SecureRandom::instance();
  Result<MasterKey> master = MasterKey::loadOrCreate(*args->get("master-key-file"), random);
  if (!master.ok()) return fail(log, "master key: " + master.error().toString());
  Result<std::unique_ptr<LocalObjectStore>> objects =
      LocalObjectStore::openDir(*args->get("data-dir"), random);
  if (!objects.ok()) return fail(log, "data dir: " + objects.error().toString());

  const Clock& clock = SystemClock::instance();
  PgMetadataStore metadata(pool);
  AccessKeys keys(metadata, *master, clock, random);
  RedisNonceStore nonces(*redis_pool);
  RequestVerifier verifier(clock, nonces);
  MetricsRegistry metrics;
  auto health = [pool]() -> Status {
    return pool->withStatus([](pqxx::connection& c) -> Status {
      pqxx::nontransaction w(c);
      w.exec("SELECT 1");
      return okStatus();
    });
  };
  GatewayServer server(config,
                       {metadata, **objects, keys, verifier, metrics, clock, random, health});
  if (Status st = server.start(); !st.ok()) return fail(log, st.error().toString());
  if (std::optional<std::string> port_file = args->get("port-file")) {
    if (Status st = writePortFile(*port_file, server.port()); !st.ok()) {
      server.stop();
      return fail(log, "port file: " + st.error().toString());
    }
  }
  const int signal = waitForTerminationSignal();
  log.info("signal " + std::to_string(signal) + ": stopping");
  server.stop();
  return 0;
}

}  // namespace dcloud::gateway
