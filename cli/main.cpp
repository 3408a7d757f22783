// dcloud: the command line for artists, ML teams and operators. See `dcloud help`.

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "common/service.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  dcloud::cli::CliEnv env;
  auto var = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  env.scheduler_url = var("DCLOUD_SCHEDULER_URL", "http://127.0.0.1:8080");
  env.s3_endpoint = var("DCLOUD_S3_ENDPOINT", "http://127.0.0.1:9000");
  const std::string home = var("HOME", "/root");
  env.key_file = var("DCLOUD_KEY", (home + "/.config/dcloud/key.json").c_str());
  env.terminal = isatty(STDOUT_FILENO) != 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  return dcloud::cli::runCli(args, env, std::cout, std::cerr);
}
