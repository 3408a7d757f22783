#pragma once
// Task cgroups for the sandbox: cgroup v1 (one hierarchy per controller, as on the dev VM) or
// v2 (unified). Task cgroups are nested under the caller's own cgroup in each hierarchy, so a
// worker that is itself limited keeps its own accounting (ENV.md section 8b).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud {

enum class CgroupVersion { kV1, kV2 };

struct CgroupLayout {
  CgroupVersion version = CgroupVersion::kV1;
  // The caller's own cgroup directory per controller ("memory", "pids", "cpu", "cpuacct",
  // "freezer"); with v2 each key maps to the same unified directory.
  std::map<std::string, std::string> own_dirs;
};

// Reads /proc/self/mountinfo and /proc/self/cgroup. FailedPrecondition when a needed controller
// is mounted nowhere (v1 needs memory, pids, cpu, cpuacct, freezer; v2 needs memory, pids, cpu).
Result<CgroupLayout> detectCgroupLayout();

// The lowest memory limit on the caller's memory cgroup and its ancestors; nullopt when unlimited
// or unknown.
std::optional<std::int64_t> ownCgroupMemoryLimit();
// The CPU quota on the caller's cgroup in CPUs (e.g. 1.5); nullopt when unlimited or unknown.
std::optional<double> ownCgroupCpuLimit();

struct CgroupLimits {
  std::int64_t memory_bytes = 0;  // <= 0: no limit
  std::int64_t max_pids = 0;      // <= 0: no limit
  double cpus = 0;                // <= 0: no quota
};

struct CgroupUsage {
  std::int64_t cpu_nanos = -1;          // -1 when the kernel does not say
  std::int64_t peak_memory_bytes = -1;  // -1 when the kernel does not say
  std::int64_t memory_limit_hits = 0;   // v1 memory.failcnt / v2 memory.events max
  bool oom_killed = false;              // the OOM killer killed something in the group
};

// One task's cgroups, one directory per hierarchy. Destroying it kills what is left and removes
// the directories.
class TaskCgroup {
 public:
  // Prepares <own>/<parent_name> (v2: enables controllers, moving the caller into a leaf if its
  // own cgroup has processes), then creates <own>/<parent_name>/<name> and applies limits.
  static Result<std::unique_ptr<TaskCgroup>> create(const CgroupLayout& layout,
                                                    const std::string& parent_name,
                                                    const std::string& name,
                                                    const CgroupLimits& limits);
  ~TaskCgroup();
  TaskCgroup(const TaskCgroup&) = delete;
  TaskCgroup& operator=(const TaskCgroup&) = delete;

  // Moves pid (and its future children) into every hierarchy.
  Status addProcess(pid_t pid);
  CgroupUsage usage() const;
  // Processes still in the group (from the freezer or unified directory).
  std::vector<pid_t> processes() const;
  // Freezes the group so nothing can fork, SIGKILLs every member, thaws, and waits (bounded)
  // until the group is empty. Ok when empty afterwards.
  Status killAll();
  // killAll, then removes the directories. Idempotent.
  Status destroy();
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  TaskCgroup(CgroupVersion version, std::map<std::string, std::string> dirs_by_controller);
  std::string dirFor(const std::string& controller) const;
  Status freeze(bool frozen);

  CgroupVersion version_;
  std::map<std::string, std::string> by_controller_;
  std::vector<std::string> dirs_;  // unique directories, creation order
  bool destroyed_ = false;
};

// The <own>/<parent_name> directories that task cgroups go into (unique, per hierarchy).
std::vector<std::string> cgroupParentDirs(const CgroupLayout& layout,
                                          const std::string& parent_name);
// Removes task cgroups named "w<pid>-..." under the parent directories whose worker process
// <pid> no longer exists (left behind by a crash). Best effort.
void removeStaleTaskCgroups(const CgroupLayout& layout, const std::string& parent_name);

}  // namespace dcloud
