#pragma once
// The `dcloud` command line: each subcommand is a function over parsed arguments and a context
// holding the user's key and the endpoints. Output goes to the given streams so tests can read it.

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/args.h"
#include "common/clock.h"
#include "common/identity.h"
#include "common/random.h"

namespace dcloud::cli {

struct CliEnv {
  std::string scheduler_url;  // DCLOUD_SCHEDULER_URL
  std::string s3_endpoint;    // DCLOUD_S3_ENDPOINT
  std::string key_file;       // DCLOUD_KEY
  bool terminal = false;      // stdout is a TTY: draw progress bars
};

// Prints the job's live events (log lines of every task, tasks leased and finished); with follow,
// until the job ends (exit 0 when it succeeded). In cli/logs.cpp.
int runLogs(const CliEnv& env, const KeyPair& key, const std::string& job_id, bool follow,
            bool json, std::ostream& out, std::ostream& err);

// Runs one invocation (argv without the program name); returns the process exit code.
int runCli(const std::vector<std::string>& argv, const CliEnv& env, std::ostream& out,
           std::ostream& err);

}  // namespace dcloud::cli
