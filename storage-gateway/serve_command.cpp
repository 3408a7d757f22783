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
#include "storage-gateway/chunk_gc.h"
#include "storage-gateway/chunk_object_store.h"
#include "storage-gateway/commands.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/lifecycle_runner.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/pg_metadata_store.h"
#include "storage-gateway/s3_request.h"

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
  Status known =
      args->requireKnown({"db", "redis", "redis-db", "data-dir", "master-key-file", "host", "port",
                          "port-file", "region", "admin", "domain", "tls-cert", "tls-key",
                          "tls-port", "tls-port-file", "lifecycle-interval-seconds"});
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
  config.domains = splitDomains(repeatedOption(argv, "domain"));
  config.tls_cert_file = args->get("tls-cert").value_or("");
  config.tls_key_file = args->get("tls-key").value_or("");
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return usageError(log, "--tls-cert and --tls-key go together");
  }
  if (args->has("tls-port")) {
    Result<long long> tls_port = args->getInt("tls-port", 0);
    if (!tls_port.ok() || *tls_port < 0 || *tls_port > 65535 || config.tls_cert_file.empty()) {
      return usageError(log, "--tls-port: bad port, or no --tls-cert/--tls-key");
    }
    config.tls_and_plain = true;
    config.tls_port = static_cast<std::uint16_t>(*tls_port);
  }

  Result<long long> lifecycle_interval = args->getInt("lifecycle-interval-seconds", 3600);
  if (!lifecycle_interval.ok() || *lifecycle_interval < 1 || *lifecycle_interval > 7 * 86400) {
    return usageError(log, "--lifecycle-interval-seconds: 1 to 604800");
  }

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
  const Clock& clock = SystemClock::instance();
  Result<std::unique_ptr<ChunkObjectStore>> objects =
      ChunkObjectStore::openDir(*args->get("data-dir"), pool, *master, clock, random);
  if (!objects.ok()) return fail(log, "data dir: " + objects.error().toString());
  // Collects chunks of deleted objects, aborted uploads and crashed writes in the background.
  ChunkGc gc(**objects, log, ChunkGcOptions{});
  gc.start();

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
  if (std::optional<std::string> port_file = args->get("tls-port-file")) {
    if (Status st = writePortFile(*port_file, server.tlsPort()); !st.ok()) {
      server.stop();
      return fail(log, "TLS port file: " + st.error().toString());
    }
  }
  // Applies the buckets' lifecycle rules in the background.
  LifecycleRunner lifecycle(metadata, **objects, clock, random);
  lifecycle.start(static_cast<int>(*lifecycle_interval));
  const int signal = waitForTerminationSignal();
  log.info("signal " + std::to_string(signal) + ": stopping");
  lifecycle.stop();
  server.stop();
  return 0;
}

}  // namespace dcloud::gateway
