// dcloud-worker: one per provider machine. Registers the machine's offer with the scheduler and
// runs leased tasks in the sandbox until SIGTERM.

#include <sys/stat.h>

#include <thread>

#include "common/args.h"
#include "common/http_server.h"
#include "common/service.h"
#include "worker/agent.h"

using namespace dcloud;

namespace {
int fail(const std::string& message) {
  Logger("worker").error(message);
  return 1;
}

// "cpu=0.5,gpu=2" -> prices.
Status parsePrices(const std::string& text, worker::AgentConfig& config) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t comma = text.find(',', pos);
    std::string part =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) return invalidArgument("--price wants cpu=P,gpu=P");
    auto amount = parseMicros(part.substr(eq + 1));
    if (!amount.ok()) return invalidArgument("--price " + part + ": " + amount.error().message);
    const std::string name = part.substr(0, eq);
    if (name == "cpu")
      config.price_core_hour = *amount;
    else if (name == "gpu")
      config.price_gpu_hour = *amount;
    else if (name != "disk")
      return invalidArgument("--price: unknown resource '" + name + "'");
  }
  return okStatus();
}
}  // namespace

int main(int argc, char** argv) {
  blockTerminationSignals();
  auto args = Args::parse(argc, argv);
  if (!args.ok()) return fail(args.error().message);
  if (Status s = args->requireKnown({"scheduler", "key", "price", "scratch", "cores", "memory-mb",
                                     "blender", "lease-wait-ms", "next-lease-wait-ms",
                                     "listen-port", "port-file"});
      !s.ok()) {
    return fail(s.error().message +
                "\nusage: dcloud-worker --scheduler URL --key PROVIDER_KEY "
                "--price cpu=P[,gpu=P] [--scratch DIR] [--cores N] [--memory-mb N] "
                "[--blender PATH] [--lease-wait-ms N] [--next-lease-wait-ms N] [--listen-port P] "
                "[--port-file F]");
  }
  worker::AgentConfig config;
  config.scheduler_url = args->get("scheduler", "DCLOUD_SCHEDULER_URL", "");
  const std::string key_file = args->get("key", "DCLOUD_KEY", "");
  if (config.scheduler_url.empty() || key_file.empty())
    return fail("--scheduler and --key are required");
  if (Status s = parsePrices(args->get("price", "DCLOUD_PRICE", "cpu=1"), config); !s.ok()) {
    return fail(s.error().message);
  }
  config.scratch_dir = args->get("scratch", "", "/var/tmp/dcloud-worker");
  config.blender = args->get("blender", "", "/usr/bin/blender");
  auto cores = args->getInt("cores", 0);
  auto memory = args->getInt("memory-mb", 0);
  auto wait = args->getInt("lease-wait-ms", 10000);
  auto next_wait = args->getInt("next-lease-wait-ms", 0);
  if (!cores.ok() || !memory.ok() || !wait.ok() || !next_wait.ok())
    return fail("numeric options must be integers");
  if (*next_wait < 0) return fail("--next-lease-wait-ms must not be negative");
  config.cores = static_cast<int>(*cores);
  config.memory_mb = *memory;
  config.lease_wait_millis = *wait;
  config.next_lease_wait_millis = *next_wait;
  ::mkdir(config.scratch_dir.c_str(), 0711);
  auto key = KeyPair::load(key_file);
  if (!key.ok()) return fail(key.error().message);
  auto sandbox = Sandbox::create(SandboxConfig{});
  if (!sandbox.ok()) return fail(sandbox.error().message);

  // /healthz and /metrics for the provider's monitoring, on loopback.
  MetricsRegistry metrics;
  auto listen_port = args->getInt("listen-port", 0);
  if (!listen_port.ok()) return fail(listen_port.error().message);
  ApiServerConfig server_config;
  server_config.name = "worker";
  server_config.port = static_cast<std::uint16_t>(*listen_port);
  server_config.max_threads = 4;
  ApiServer server(server_config, Router{}, nullptr, metrics, [] { return okStatus(); });
  if (Status s = server.start(); !s.ok()) return fail(s.error().message);
  if (auto f = args->get("port-file")) {
    if (Status s = writePortFile(*f, server.port()); !s.ok()) return fail(s.error().message);
  }
  worker::Agent agent(config, *key, **sandbox, SystemClock::instance(), SecureRandom::instance(),
                      metrics);
  Status result = okStatus();
  std::thread runner([&] { result = agent.run(); });
  std::thread waiter([&] {
    waitForTerminationSignal();
    Logger("worker").info("signal received: stopping");
    agent.stop();
  });
  runner.join();
  if (!result.ok()) {
    waiter.detach();
    return fail(result.error().message);
  }
  waiter.detach();
  return 0;
}
