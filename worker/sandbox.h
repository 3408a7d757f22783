#pragma once
// Runs one task under bubblewrap inside cgroup limits (DESIGN.md "Sandbox", ENV.md section 8):
// every namespace unshared (network only on request), no capabilities, a non-root uid on the host
// too, read-only /usr, a private writable /work and /tmp, a seccomp filter, and memory, process
// and CPU limits. The worker runs as root; the task never does.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "worker/cgroups.h"

namespace dcloud {

struct SandboxLimits {
  std::int64_t memory_bytes = 0;    // <= 0: no limit (not recommended)
  int max_processes = 0;            // processes and threads of the task; <= 0: no limit
  double cpus = 0;                  // CPU quota, e.g. 1.5; <= 0: no quota
  std::int64_t timeout_millis = 0;  // wall-clock limit; <= 0: none
};

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in the sandbox's PATH
  std::string work_dir;           // host dir, bound read-write at /work and the cwd
  std::vector<std::pair<std::string, std::string>> ro_binds;  // host path -> sandbox path
  std::map<std::string, std::string> env;                     // on top of PATH, HOME=/tmp, LANG
  SandboxLimits limits;
  bool allow_network = false;
  std::vector<std::string> device_nodes;  // bound at the same path, e.g. /dev/nvidia0
};

struct SandboxUsage {
  std::int64_t cpu_millis = 0;  // user + system of the whole process tree
  std::int64_t wall_millis = 0;
  std::int64_t peak_memory_bytes = 0;  // of the whole tree (cgroup), else the largest process
};

// Where a run's time went, for benchmarks and logs (microseconds, steady clock).
struct SandboxTimings {
  std::int64_t prepare_micros = 0;   // checks, chown, seccomp fd, task cgroup ready
  std::int64_t spawn_micros = 0;     // clone until the child exec'd bwrap
  std::int64_t run_micros = 0;       // bwrap exec'd until it was reaped
  std::int64_t teardown_micros = 0;  // reaped until usage read, cgroups emptied, output drained
};

struct SandboxResult {
  // Shell style: the task's exit status, or 128 + N when it died of signal N.
  int exit_code = 0;
  int term_signal = 0;  // N when the task died of signal N, else 0
  bool timed_out = false;
  bool out_of_memory = false;  // the kernel killed something in the task for memory
  bool cancelled = false;
  SandboxUsage usage;
  SandboxTimings timings;
};

struct SandboxConfig {
  std::string bwrap = "bwrap";                // a path, or a name looked up in PATH
  std::string cgroup_parent_name = "dcloud";  // task cgroups go under <own cgroup>/<this>/
  int sandbox_uid = 65534;
  int sandbox_gid = 65534;
  // Empty task cgroups kept ready (made, and removed after their task, on a background thread).
  std::size_t spare_cgroups = 16;
};

class Sandbox {
 public:
  // FailedPrecondition with a clear message if bwrap is missing or cgroups cannot be used (not
  // root, controllers missing). Removes task cgroups left behind by crashed workers.
  static Result<std::unique_ptr<Sandbox>> create(const SandboxConfig& config);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs spec and blocks until its whole process tree is gone. on_output_line gets each line of
  // stdout and stderr (merged, without the newline; very long lines arrive in 64 KiB pieces),
  // called on this thread; it must not throw. work_dir and the ro_binds sources must be
  // reachable by the sandbox uid (every parent directory searchable), else InvalidArgument. Setting
  // cancel kills the tree within ~100 ms, as do the timeout and the death of this thread (the
  // process gets SIGKILL). Chowns work_dir (recursively) to the sandbox uid when running as root.
  // An error means the task did not run (bad spec: InvalidArgument; bwrap or cgroup failure:
  // FailedPrecondition or Internal); what the task did is in SandboxResult. Thread-safe: several
  // runs may proceed at once.
  Result<SandboxResult> run(const SandboxSpec& spec,
                            const std::function<void(std::string_view line)>& on_output_line,
                            const std::atomic<bool>& cancel);

  // Where task cgroups are created, one directory per hierarchy; task cgroups are named
  // "w<worker pid>-<n>". Each task gets a fresh one, made ahead of time; when run returns its
  // processes are gone and the directories are removed in the background.
  std::vector<std::string> cgroupParentDirs() const;
  const CgroupLayout& cgroupLayout() const { return layout_; }

 private:
  Sandbox(SandboxConfig config, std::string bwrap_path, CgroupLayout layout,
          std::string seccomp_offline, std::string seccomp_online);

  SandboxConfig config_;
  std::string bwrap_path_;
  CgroupLayout layout_;
  std::string seccomp_offline_;  // BPF programs for tasks without and with network
  std::string seccomp_online_;
  std::unique_ptr<TaskCgroupPool> pool_;
};

// The bwrap command line for spec (exposed for tests and logs); seccomp_fd is the descriptor
// the child holds the BPF program on when it execs bwrap.
std::vector<std::string> bwrapArguments(const std::string& bwrap_path, const SandboxSpec& spec,
                                        int seccomp_fd);

}  // namespace dcloud
