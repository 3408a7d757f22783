// The worker's own cost per task: N leased tasks run through the real TaskRunner (scratch dirs,
// task cgroups, bubblewrap, seccomp, output scan, signed receipt, the progress and completion
// calls) at a fixed concurrency, as Agent runs them. The scheduler is a stub HTTP server in this
// process that answers every progress/complete call at once and notes when the completion
// arrived; there is no S3 traffic (command tasks with no outputs). Needs root, like the worker.
//
//   dcloud-bench-sandbox [--true-tasks 1000] [--sleep-tasks 200] [--sleep-s 0.5]
//                        [--concurrency 16] [--sandbox-only-tasks 200]
//
// Per-task overhead = (completion received by the stub - TaskRunner::run called) - the command's
// own time (0 for `true`, --sleep-s for sleep). CPU per task = this process and its reaped
// children (bwrap, the tasks), less the CPU the stub's handlers used, over the tasks run.
// <phase>_p50_ms_<part> lines split the time (SandboxResult::timings, RunOutcome::timings).
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/identity.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "worker/sandbox.h"
#include "worker/task_runner.h"

using namespace dcloud;
using Steady = std::chrono::steady_clock;

namespace {

double msBetween(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::int64_t threadCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// CPU of this process plus its reaped descendants, in milliseconds.
double processTreeCpuMs() {
  auto ms = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 +
           (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return ms(self) + ms(children);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The scheduler's worker-facing task calls, answered at once.
class StubScheduler {
 public:
  StubScheduler() {
    Router router;
    auto note = [this](bool complete) {
      return std::make_shared<FunctionEndpoint>([this, complete](const ApiRequest& req) {
        const std::int64_t cpu0 = threadCpuNanos();
        const auto now = Steady::now();
        {
          std::lock_guard lock(mutex_);
          const std::string& task = req.path_params.at("task");
          if (complete) {
            completed_[task] = now;
          } else if (!first_progress_.count(task)) {
            first_progress_[task] = now;
          }
        }
        ApiResponse r = ApiResponse::json(JsonObject(new Poco::JSON::Object));
        handler_cpu_nanos_ += threadCpuNanos() - cpu0;
        return r;
      });
    };
    router.add("POST", "/v1/workers/{worker}/tasks/{task}/progress", Auth::kNone, note(false));
    router.add("POST", "/v1/workers/{worker}/tasks/{task}/complete", Auth::kNone, note(true));
    ApiServerConfig config;
    config.name = "stub-scheduler";
    config.max_threads = 64;
    server_ = std::make_unique<ApiServer>(config, std::move(router), nullptr, metrics_,
                                          [] { return okStatus(); });
  }
  Status start() { return server_->start(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::optional<Steady::time_point> completed(const std::string& task) {
    std::lock_guard lock(mutex_);
    auto it = completed_.find(task);
    if (it == completed_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Steady::time_point> firstProgress(const std::string& task) {
    std::lock_guard lock(mutex_);
    auto it = first_progress_.find(task);
    if (it == first_progress_.end()) return std::nullopt;
    return it->second;
  }
  double handlerCpuMs() const { return static_cast<double>(handler_cpu_nanos_.load()) / 1e6; }

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<ApiServer> server_;
  std::mutex mutex_;
  std::map<std::string, Steady::time_point> completed_;
  std::map<std::string, Steady::time_point> first_progress_;
  std::atomic<std::int64_t> handler_cpu_nanos_{0};
};

struct PhaseResult {
  double wall_s = 0;
  double cpu_ms = 0;
  std::vector<double> overhead_ms;  // per task: start to completion, less the command's time
  std::vector<double> setup_ms;     // per task: start to the first progress call
  std::vector<worker::RunTimings> timings;
  int failed = 0;
};

// Runs `count` tasks of argv through TaskRunner, `concurrency` at a time (Agent's thread per
// attempt, with a fresh TaskRunner each, as Agent::startTask does).
PhaseResult runnerPhase(const std::string& name, const std::vector<std::string>& argv,
                        double command_ms, int count, int concurrency, StubScheduler& stub,
                        const ApiClient& api, const KeyPair& key, Sandbox& sandbox,
                        const std::string& scratch) {
  PhaseResult out;
  std::atomic<int> next{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, Steady::time_point>> starts;
  const double stub_cpu0 = stub.handlerCpuMs();
  const double cpu0 = processTreeCpuMs();
  const auto t0 = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        worker::Task task;
        task.task_id = name + "-" + std::to_string(i);
        task.attempt_id = task.task_id + "-a1";
        task.job_id = "job-" + task.task_id;
        task.kind = "command";
        task.command = argv;
        task.cores = 1;
        task.memory_mb = 256;
        task.timeout_seconds = 60;
        task.output_bucket = "out";
        task.output_prefix = task.job_id + "/";
        task.s3_endpoint = "http://127.0.0.1:9";  // never called: no inputs, no outputs
        worker::RunnerConfig rc;
        rc.worker_id = "bench-worker";
        rc.scratch_dir = scratch;
        const auto start = Steady::now();
        worker::TaskRunner runner(rc, api, key, sandbox, SystemClock::instance());
        std::atomic<bool> cancel{false};
        worker::RunOutcome outcome = runner.run(task, cancel);
        std::lock_guard lock(mutex);
        if (!outcome.succeeded) {
          ++out.failed;
          std::fprintf(stderr, "%s failed: %s\n", task.task_id.c_str(), outcome.error.c_str());
        }
        starts.emplace_back(task.task_id, start);
        out.timings.push_back(outcome.timings);
      }
    });
  }
  for (auto& t : threads) t.join();
  out.wall_s = std::chrono::duration<double>(Steady::now() - t0).count();
  out.cpu_ms = processTreeCpuMs() - cpu0 - (stub.handlerCpuMs() - stub_cpu0);
  for (const auto& [task, start] : starts) {
    if (auto done = stub.completed(task)) {
      out.overhead_ms.push_back(msBetween(start, *done) - command_ms);
    }
    if (auto first = stub.firstProgress(task)) out.setup_ms.push_back(msBetween(start, *first));
  }
  return out;
}

// p50 of one component of the per-task breakdown, in ms.
template <typename Get>
double p50Ms(const std::vector<worker::RunTimings>& all, Get get) {
  std::vector<double> v;
  for (const auto& t : all) v.push_back(static_cast<double>(get(t)) / 1000.0);
  return percentile(v, 0.5);
}

// Where the time went, p50 per component: TaskRunner before the sandbox, the sandbox's own
// phases (prepare: checks and cgroup; spawn: until bwrap exec'd; run: bwrap and the command;
// teardown: usage, cgroup emptied), TaskRunner after it, the completion call, scratch removal.
void printTimings(const std::string& prefix, const std::vector<worker::RunTimings>& t) {
  using T = worker::RunTimings;
  std::printf("%s_p50_ms_before_sandbox=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.before_sandbox_micros; }));
  std::printf("%s_p50_ms_sandbox_prepare=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.sandbox.prepare_micros; }));
  std::printf("%s_p50_ms_sandbox_spawn=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.sandbox.spawn_micros; }));
  std::printf("%s_p50_ms_sandbox_run=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.sandbox.run_micros; }));
  std::printf("%s_p50_ms_sandbox_teardown=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.sandbox.teardown_micros; }));
  std::printf("%s_p50_ms_after_sandbox=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.after_sandbox_micros; }));
  std::printf("%s_p50_ms_complete_call=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.complete_micros; }));
  std::printf("%s_p50_ms_cleanup=%.2f\n", prefix.c_str(),
              p50Ms(t, [](const T& x) { return x.cleanup_micros; }));
}

void printPhase(const std::string& prefix, const PhaseResult& r, int count) {
  std::printf("%s_tasks=%d\n%s_failed=%d\n", prefix.c_str(), count, prefix.c_str(), r.failed);
  std::printf("%s_wall_s=%.3f\n%s_tasks_per_s=%.1f\n", prefix.c_str(), r.wall_s, prefix.c_str(),
              count / r.wall_s);
  std::printf("%s_overhead_p50_ms=%.1f\n%s_overhead_p99_ms=%.1f\n", prefix.c_str(),
              percentile(r.overhead_ms, 0.5), prefix.c_str(), percentile(r.overhead_ms, 0.99));
  std::printf("%s_setup_p50_ms=%.1f\n", prefix.c_str(), percentile(r.setup_ms, 0.5));
  std::printf("%s_cpu_ms_per_task=%.2f\n", prefix.c_str(), r.cpu_ms / count);
  printTimings(prefix, r.timings);
}

int run(const Args& a) {
  auto true_tasks = a.getInt("true-tasks", 1000);
  auto sleep_tasks = a.getInt("sleep-tasks", 200);
  auto concurrency = a.getInt("concurrency", 16);
  auto sandbox_only = a.getInt("sandbox-only-tasks", 200);
  const double sleep_s = std::atof(a.get("sleep-s").value_or("0.5").c_str());
  if (!true_tasks.ok() || !sleep_tasks.ok() || !concurrency.ok() || !sandbox_only.ok() ||
      *concurrency < 1 || sleep_s < 0) {
    std::fprintf(stderr,
                 "usage: dcloud-bench-sandbox [--true-tasks N] [--sleep-tasks N] [--sleep-s S] "
                 "[--concurrency C] [--sandbox-only-tasks N]\n");
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "dcloud-bench-sandbox needs root (the sandbox creates cgroups)\n");
    return 2;
  }
  // The worker logs two lines per task; at info they would bury the key=value lines.
  Logger::setMinimumLevel(LogLevel::kWarn);
  auto sandbox = Sandbox::create(SandboxConfig{});
  if (!sandbox.ok()) {
    std::fprintf(stderr, "%s\n", sandbox.error().toString().c_str());
    return 1;
  }
  char tmpl[] = "/tmp/dcloud-sandbox-bench.XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  const std::string scratch = tmpl;
  ::chmod(scratch.c_str(), 0755);  // the sandbox uid must reach its /work below it

  StubScheduler stub;
  if (Status s = stub.start(); !s.ok()) {
    std::fprintf(stderr, "stub scheduler: %s\n", s.error().toString().c_str());
    return 1;
  }
  KeyPair key = KeyPair::generate();
  ApiClient api(stub.url(), &key, SystemClock::instance(), SecureRandom::instance());
  const int c = static_cast<int>(*concurrency);
  std::printf("concurrency=%d\n", c);

  // The sandbox alone (Sandbox::run of `true`), to split the TaskRunner's share from it.
  if (*sandbox_only > 0) {
    std::vector<double> walls;
    std::vector<worker::RunTimings> timings;
    std::mutex mutex;
    std::atomic<int> next{0};
    const double cpu0 = processTreeCpuMs();
    const auto t0 = Steady::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < c; ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < *sandbox_only; i = next++) {
          const std::string work = scratch + "/sandbox-only-" + std::to_string(i);
          std::filesystem::create_directories(work);
          SandboxSpec spec;
          spec.argv = {"true"};
          spec.work_dir = work;
          spec.limits = {256 << 20, 1024, 1.0, 60000};
          std::atomic<bool> cancel{false};
          const auto start = Steady::now();
          auto r = (*sandbox)->run(spec, nullptr, cancel);
          const double ms = msBetween(start, Steady::now());
          std::filesystem::remove_all(work);
          std::lock_guard lock(mutex);
          if (r.ok()) {
            walls.push_back(ms);
            worker::RunTimings t;
            t.sandbox = r->timings;
            timings.push_back(t);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const double wall = std::chrono::duration<double>(Steady::now() - t0).count();
    std::printf("sandbox_only_tasks=%lld\nsandbox_only_p50_ms=%.1f\nsandbox_only_p99_ms=%.1f\n",
                static_cast<long long>(*sandbox_only), percentile(walls, 0.5),
                percentile(walls, 0.99));
    std::printf("sandbox_only_tasks_per_s=%.1f\nsandbox_only_cpu_ms_per_task=%.2f\n",
                static_cast<double>(*sandbox_only) / wall,
                (processTreeCpuMs() - cpu0) / static_cast<double>(*sandbox_only));
    printTimings("sandbox_only", timings);
  }
  int failed = 0;
  if (*true_tasks > 0) {
    PhaseResult r = runnerPhase("true", {"true"}, 0, static_cast<int>(*true_tasks), c, stub, api,
                                key, **sandbox, scratch);
    printPhase("true", r, static_cast<int>(*true_tasks));
    failed += r.failed;
  }
  if (*sleep_tasks > 0) {
    char arg[32];
    std::snprintf(arg, sizeof(arg), "%g", sleep_s);
    PhaseResult r =
        runnerPhase("sleep", {"sleep", arg}, sleep_s * 1000, static_cast<int>(*sleep_tasks), c,
                    stub, api, key, **sandbox, scratch);
    printPhase("sleep", r, static_cast<int>(*sleep_tasks));
    const double ideal = std::ceil(static_cast<double>(*sleep_tasks) / c) * sleep_s;
    std::printf("sleep_ideal_s=%.3f\nsleep_makespan_over_ideal=%.3f\n", ideal, r.wall_s / ideal);
    failed += r.failed;
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  return failed == 0 ? 0 : 1;
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
