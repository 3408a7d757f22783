// Batch-job makespan through a running region: submits N `command` jobs one after another from one
// client (like a loop of `sbatch --wrap`), then polls the active jobs (as Slurm's baseline polls
// squeue) until none is left, and prints key=value lines. The region's workers run the commands
// for real in their sandboxes. scripts/bench vs-slurm runs it beside Slurm.
//
//   dcloud-bench-jobs --scheduler URL --key FILE --jobs N [--poll-ms 200]
//                     [--cores 1] [--memory-mb 64] [--max-price 1] -- COMMAND ARGS...
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/http_client.h"
#include "common/json.h"

using namespace dcloud;

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

JsonObject jobBody(const std::vector<std::string>& command, const Args& a) {
  JsonObject body = new Poco::JSON::Object;
  body->set("kind", "command");
  Poco::JSON::Array::Ptr argv = new Poco::JSON::Array;
  for (const auto& arg : command) argv->add(arg);
  body->set("command", argv);
  body->set("max_price", a.get("max-price").value_or("1"));
  body->set("timeout_seconds", 60);
  JsonObject res = new Poco::JSON::Object;
  res->set("cores", std::stoi(a.get("cores").value_or("1")));
  res->set("memory_mb", std::stoi(a.get("memory-mb").value_or("64")));
  body->set("resources", res);
  return body;
}

struct Tally {
  int ended = 0, succeeded = 0;
};

// Counts ended jobs among the caller's newest `limit` jobs.
Result<Tally> tally(const ApiClient& api, int limit) {
  auto r = api.call("GET", "/v1/jobs?limit=" + std::to_string(limit));
  if (!r.ok()) return r.error();
  Tally t;
  JsonArray jobs = (*r)->getArray("jobs");
  for (std::size_t i = 0; jobs && i < jobs->size(); ++i) {
    JsonObject job = jobs->getObject(static_cast<unsigned>(i));
    const std::string state = job->getValue<std::string>("state");
    if (state == "succeeded" || state == "failed" || state == "cancelled") ++t.ended;
    if (state == "succeeded") ++t.succeeded;
  }
  return t;
}

// How many of the caller's jobs are still queued or running (as Slurm's baseline polls squeue
// for jobs not finished): the poll costs less as jobs finish.
Result<int> activeJobs(const ApiClient& api, int limit) {
  auto r = api.call("GET", "/v1/jobs?state=active&limit=" + std::to_string(limit));
  if (!r.ok()) return r.error();
  JsonArray jobs = (*r)->getArray("jobs");
  return jobs ? static_cast<int>(jobs->size()) : 0;
}

int run(const Args& a) {
  auto url = a.get("scheduler");
  auto key_file = a.get("key");
  auto n = a.getInt("jobs", 1000);
  auto poll_ms = a.getInt("poll-ms", 200);
  if (!url || !key_file || !n.ok() || !poll_ms.ok() || *n < 1 || *n > 1000) {
    std::fprintf(stderr,
                 "usage: dcloud-bench-jobs --scheduler URL --key FILE --jobs N(<=1000) "
                 "[--poll-ms MS] -- COMMAND...\n");
    return 2;
  }
  // The command follows "--" (Args keeps it apart from options and positionals).
  std::vector<std::string> command = a.rest();
  if (command.empty()) command = a.positional();
  if (command.empty()) command = {"true"};
  auto key = KeyPair::load(*key_file);
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.error().toString().c_str());
    return 1;
  }
  ApiClient api(*url, &*key, SystemClock::instance(), SecureRandom::instance());
  const int jobs = static_cast<int>(*n);

  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < jobs; ++i) {
    auto r = api.call("POST", "/v1/jobs", jobBody(command, a));
    if (!r.ok()) {
      std::fprintf(stderr, "submit %d: %s\n", i, r.error().toString().c_str());
      return 1;
    }
  }
  const double submit_s = secondsSince(t0);
  for (;;) {
    auto active = activeJobs(api, jobs);
    if (!active.ok()) {
      std::fprintf(stderr, "poll: %s\n", active.error().toString().c_str());
      return 1;
    }
    if (*active == 0) break;
    if (secondsSince(t0) > 900) {
      std::fprintf(stderr, "gave up after 900 s: %d of %d jobs still active\n", *active, jobs);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(*poll_ms));
  }
  const double makespan_s = secondsSince(t0);
  auto final_tally = tally(api, jobs);
  if (!final_tally.ok()) {
    std::fprintf(stderr, "tally: %s\n", final_tally.error().toString().c_str());
    return 1;
  }
  const Tally t = *final_tally;
  std::printf(
      "jobs=%d\nsubmit_s=%.3f\nsubmit_rate=%.1f\nmakespan_s=%.3f\nthroughput=%.1f\n"
      "succeeded_jobs=%d\n",
      jobs, submit_s, jobs / submit_s, makespan_s, jobs / makespan_s, t.succeeded);
  return t.succeeded == jobs ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto a = Args::parse(argc, argv);
  if (!a.ok()) {
    std::fprintf(stderr, "%s\n", a.error().toString().c_str());
    return 2;
  }
  return run(*a);
}
