#pragma once
// Task cgroups for the sandbox: cgroup v1 (one hierarchy per controller, as on the dev VM) or
// v2 (unified). Task cgroups are nested under the caller's own cgroup in each hierarchy, so a
// worker that is itself limited keeps its own accounting (ENV.md section 8b).

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  bool operator==(const CgroupLimits&) const = default;
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

  // Writes the limits (a field <= 0 leaves that limit as it is), on a fresh cgroup before any
  // process joins; applied() is what was written.
  Status applyLimits(const CgroupLimits& limits);
  const CgroupLimits& applied() const { return applied_; }
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
  CgroupLimits applied_;
  bool destroyed_ = false;
};

// Task cgroups made ahead and removed behind, on a background thread: mkdir of the five v1
// directories and above all their rmdir (with the waits for exiting processes) used to sit
// between a lease and its command and between a task's exit and its completion. Every task still
// gets a fresh cgroup, so its counters (CPU, peak memory, OOM kills) are its own.
class TaskCgroupPool {
 public:
  // Names are "<name_prefix><n>"; `spares` empty cgroups are kept ready.
  TaskCgroupPool(CgroupLayout layout, std::string parent_name, std::string name_prefix,
                 std::size_t spares);
  // Removes the spares and finishes pending removals.
  ~TaskCgroupPool();
  TaskCgroupPool(const TaskCgroupPool&) = delete;
  TaskCgroupPool& operator=(const TaskCgroupPool&) = delete;

  // A fresh, empty cgroup with limits applied: a spare when one is ready, else made now. Spares
  // are made with the limits the last take asked for, so that (the usual case: a worker's tasks
  // look alike) nothing is left to write; a spare made for other limits is not reused.
  Result<std::unique_ptr<TaskCgroup>> take(const CgroupLimits& limits);
  // Hands a task cgroup over for removal (killAll, then rmdir) in the background.
  void release(std::unique_ptr<TaskCgroup> cgroup);
  // Blocks until every released cgroup is removed. Failures are logged.
  void drain();
  // Spares ready now (for tests).
  std::size_t sparesReady();

 private:
  Result<std::unique_ptr<TaskCgroup>> make(const CgroupLimits& limits);
  void loop();

  CgroupLayout layout_;
  std::string parent_name_;
  std::string name_prefix_;
  std::size_t target_spares_;
  std::mutex mutex_;
  std::condition_variable wake_;     // work for the background thread
  std::condition_variable drained_;  // removals finished
  std::deque<std::unique_ptr<TaskCgroup>> spares_;
  std::deque<std::unique_ptr<TaskCgroup>> to_remove_;
  std::size_t removing_ = 0;  // taken off to_remove_, not yet removed
  std::uint64_t next_name_ = 0;
  CgroupLimits last_limits_;  // asked for by the last take; spares are made with them
  bool have_limits_ = false;  // no spares before the first take says what tasks look like
  bool make_failed_ = false;  // the last background make failed: make on demand until a take
  bool stop_ = false;
  std::thread thread_;
};

// The <own>/<parent_name> directories that task cgroups go into (unique, per hierarchy).
std::vector<std::string> cgroupParentDirs(const CgroupLayout& layout,
                                          const std::string& parent_name);
// Removes task cgroups named "w<pid>-..." under the parent directories whose worker process
// <pid> no longer exists (left behind by a crash). Best effort.
void removeStaleTaskCgroups(const CgroupLayout& layout, const std::string& parent_name);

}  // namespace dcloud
