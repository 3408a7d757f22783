// dcloud-gateway: the S3-compatible storage gateway (see storage-gateway/commands.h).
#include <iostream>
#include <string>
#include <vector>

#include "common/service.h"
#include "storage-gateway/commands.h"

int main(int argc, char** argv) {
  // Before any thread starts, so SIGTERM reaches only waitForTerminationSignal().
  dcloud::blockTerminationSignals();
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string command = args.empty() ? "" : args[0];
  if (command == "serve") return dcloud::gateway::runServe(args);
  if (command == "keys") return dcloud::gateway::runKeys(args, std::cout, std::cerr);
  std::cerr << "usage: dcloud-gateway serve|keys ... (see storage-gateway/README.md)\n";
  return 2;
}
