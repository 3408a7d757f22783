// cgroupfs access by plain file writes (no systemd here: ENV.md section 8b).

#include "worker/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/log.h"

namespace dcloud {
namespace {

const std::vector<std::string> kV1Controllers = {"memory", "pids", "cpu", "cpuacct", "freezer"};
const std::vector<std::string> kV2Controllers = {"memory", "pids", "cpu"};
// v1 reports "no limit" as a page-rounded LONG_MAX; anything this large means unlimited.
constexpr std::int64_t kUnlimited = std::int64_t{1} << 60;

std::string errnoText(int err) {
  return std::strerror(err);
}

Status writeFile(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return internalError("open " + path + ": " + errnoText(errno));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return internalError("write '" + value + "' to " + path + ": " + errnoText(err));
  }
  return okStatus();
}

// errno of a failed write, 0 on success.
int writeFileErrno(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = n == static_cast<ssize_t>(value.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::int64_t> readInt(const std::string& path) {
  auto text = readFile(path);
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "key value" lines, as in memory.oom_control, memory.events, cpu.stat.
std::optional<std::int64_t> readKeyed(const std::string& path, const std::string& key) {
  auto text = readFile(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string k;
  std::int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

struct Mount {
  std::string root;
  std::string point;
  std::string fstype;
  std::set<std::string> options;
};

std::vector<Mount> cgroupMounts() {
  std::vector<Mount> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = split(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || std::distance(dash, f.end()) < 4) continue;
    Mount m{f[3], f[4], *(dash + 1), {}};
    if (m.fstype != "cgroup" && m.fstype != "cgroup2") continue;
    for (const std::string& o : split(*(dash + 3), ',')) m.options.insert(o);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// controller -> path from /proc/self/cgroup; "" keys the unified (v2) entry.
std::map<std::string, std::string> ownCgroupPaths() {
  std::map<std::string, std::string> paths;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      paths[""] = path;
      continue;
    }
    for (const std::string& c : split(controllers, ',')) paths[c] = path;
  }
  return paths;
}

std::string joinUnder(const Mount& m, std::string path) {
  // Inside a cgroup namespace or a bind mount, the mount's root is a prefix of the path.
  if (m.root != "/" && path.rfind(m.root, 0) == 0) path = path.substr(m.root.size());
  if (path == "/") path.clear();
  return m.point + path;
}

std::optional<CgroupLayout> detectV1(const std::vector<Mount>& mounts,
                                     const std::map<std::string, std::string>& paths,
                                     std::string* missing) {
  CgroupLayout layout;
  layout.version = CgroupVersion::kV1;
  for (const std::string& c : kV1Controllers) {
    const Mount* found = nullptr;
    for (const Mount& m : mounts) {
      if (m.fstype == "cgroup" && m.options.count(c) && (!found || m.root == "/")) found = &m;
    }
    auto p = paths.find(c);
    if (!found || p == paths.end()) {
      *missing += " " + c;
      continue;
    }
    layout.own_dirs[c] = joinUnder(*found, p->second);
  }
  if (!missing->empty()) return std::nullopt;
  return layout;
}

std::optional<CgroupLayout> detectV2(const std::vector<Mount>& mounts,
                                     const std::map<std::string, std::string>& paths,
                                     std::string* missing) {
  const Mount* found = nullptr;
  for (const Mount& m : mounts) {
    if (m.fstype == "cgroup2" && (!found || m.root == "/")) found = &m;
  }
  auto p = paths.find("");
  if (!found || p == paths.end()) {
    *missing = " cgroup2 mount";
    return std::nullopt;
  }
  std::string dir = joinUnder(*found, p->second);
  std::set<std::string> available;
  for (const std::string& c : split(readFile(dir + "/cgroup.controllers").value_or(""), ' ')) {
    std::string t = c;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    available.insert(t);
  }
  CgroupLayout layout;
  layout.version = CgroupVersion::kV2;
  for (const std::string& c : kV2Controllers) {
    if (!available.count(c)) *missing += " " + c;
    layout.own_dirs[c] = dir;
  }
  if (!missing->empty()) return std::nullopt;
  return layout;
}

Status makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return failedPrecondition("cannot create cgroup " + path + ": " + errnoText(errno));
  }
  return okStatus();
}

// v2: a cgroup's controllers reach its children only through subtree_control, and a non-root
// cgroup holding processes may not enable them ("no internal processes"); a delegated worker
// therefore moves itself into a leaf first, as systemd expects of Delegate=yes services.
Status enableV2Controllers(const std::string& own, const std::string& parent_name) {
  const std::string enable = "+memory +pids +cpu";
  int err = writeFileErrno(own + "/cgroup.subtree_control", enable);
  if (err == EBUSY) {
    std::string leaf = own + "/" + parent_name + "-worker";
    DCLOUD_TRY(makeDir(leaf));
    DCLOUD_TRY(writeFile(leaf + "/cgroup.procs", std::to_string(::getpid())));
    err = writeFileErrno(own + "/cgroup.subtree_control", enable);
  }
  if (err != 0) {
    return failedPrecondition("cannot enable cgroup controllers in " + own + ": " + errnoText(err));
  }
  std::string parent = own + "/" + parent_name;
  DCLOUD_TRY(makeDir(parent));
  err = writeFileErrno(parent + "/cgroup.subtree_control", enable);
  if (err != 0) {
    return failedPrecondition("cannot enable cgroup controllers in " + parent + ": " +
                              errnoText(err));
  }
  return okStatus();
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// Checks done() until it holds or about `limit` has passed, pausing 0.1 ms at first and doubling
// up to 5 ms: exits and freezes usually finish within a millisecond, and a fixed 5-10 ms pause
// used to add that much to every task's teardown.
template <typename Done>
bool waitUntil(Done done, std::chrono::milliseconds limit) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limit;
  std::chrono::microseconds pause(100);
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(5));
  }
}

std::vector<pid_t> readPids(const std::string& path) {
  std::vector<pid_t> pids;
  std::ifstream in(path);
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// Waits up to `limit` for every one of pids to exit, woken by their pidfds (readable once the
// process has left its cgroups) instead of polling with sleeps: after bwrap is reaped its
// namespace's init is usually still tearing the mounts down, about a millisecond, and sleeps
// rounded that up. False if a pidfd could not be had (the caller polls) or time ran out.
bool waitForExit(const std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
  std::vector<pollfd> fds;
  bool ok = true;
  for (pid_t pid : pids) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      fds.push_back({fd, POLLIN, 0});
    } else if (errno != ESRCH) {
      ok = false;  // no pidfds here (Linux < 5.3): let the caller poll
      break;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (ok && !fds.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) {
      ok = false;
      break;
    }
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()) + 1);
    if (n < 0 && errno != EINTR) ok = false;
    for (auto it = fds.begin(); it != fds.end();) {
      if (it->revents != 0) {
        ::close(it->fd);
        it = fds.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const pollfd& p : fds) ::close(p.fd);
  return ok;
}

}  // namespace

Result<CgroupLayout> detectCgroupLayout() {
  std::vector<Mount> mounts = cgroupMounts();
  std::map<std::string, std::string> paths = ownCgroupPaths();
  std::string missing_v1, missing_v2;
  if (auto v1 = detectV1(mounts, paths, &missing_v1)) return *v1;
  if (auto v2 = detectV2(mounts, paths, &missing_v2)) return *v2;
  return failedPrecondition("cgroups unusable: v1 lacks" + missing_v1 + "; v2 lacks" + missing_v2);
}

std::optional<std::int64_t> ownCgroupMemoryLimit() {
  auto layout = detectCgroupLayout();
  if (!layout.ok()) return std::nullopt;
  std::string dir = layout->own_dirs.at("memory");
  const bool v1 = layout->version == CgroupVersion::kV1;
  std::optional<std::int64_t> lowest;
  // Walk up to the hierarchy root: a parent's limit binds the child too.
  for (int depth = 0; depth < 64 && dir.size() > 1; ++depth) {
    auto limit = readInt(dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max"));
    if (limit && *limit > 0 && *limit < kUnlimited && (!lowest || *limit < *lowest)) {
      lowest = limit;
    }
    if (!exists(dir + "/../cgroup.procs")) break;
    dir = dir.substr(0, dir.rfind('/'));
  }
  return lowest;
}

std::optional<double> ownCgroupCpuLimit() {
  auto layout = detectCgroupLayout();
  if (!layout.ok()) return std::nullopt;
  const std::string& dir = layout->own_dirs.at("cpu");
  if (layout->version == CgroupVersion::kV1) {
    auto quota = readInt(dir + "/cpu.cfs_quota_us");
    auto period = readInt(dir + "/cpu.cfs_period_us");
    if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
    return static_cast<double>(*quota) / static_cast<double>(*period);
  }
  auto text = readFile(dir + "/cpu.max");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string quota;
  std::int64_t period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  try {
    return static_cast<double>(std::stoll(quota)) / static_cast<double>(period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> cgroupParentDirs(const CgroupLayout& layout,
                                          const std::string& parent_name) {
  std::vector<std::string> dirs;
  for (const auto& [controller, own] : layout.own_dirs) {
    std::string dir = own + "/" + parent_name;
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  return dirs;
}

void removeStaleTaskCgroups(const CgroupLayout& layout, const std::string& parent_name) {
  for (const std::string& parent : cgroupParentDirs(layout, parent_name)) {
    DIR* d = ::opendir(parent.c_str());
    if (!d) continue;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < 3 || name[0] != 'w') continue;
      auto dash = name.find('-');
      if (dash == std::string::npos) continue;
      pid_t pid = 0;
      try {
        pid = static_cast<pid_t>(std::stol(name.substr(1, dash - 1)));
      } catch (const std::exception&) {
        continue;
      }
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(parent + "/" + name);
    }
    ::closedir(d);
    for (const std::string& dir : stale) {
      // Processes left in a stale group are killed; rmdir fails harmlessly if any remain.
      for (pid_t pid : readPids(dir + "/cgroup.procs")) ::kill(pid, SIGKILL);
      ::rmdir(dir.c_str());
    }
  }
}

TaskCgroup::TaskCgroup(CgroupVersion version, std::map<std::string, std::string> dirs)
    : version_(version), by_controller_(std::move(dirs)) {}

Result<std::unique_ptr<TaskCgroup>> TaskCgroup::create(const CgroupLayout& layout,
                                                       const std::string& parent_name,
                                                       const std::string& name,
                                                       const CgroupLimits& limits) {
  if (!validName(parent_name) || !validName(name)) {
    return invalidArgument("bad cgroup name: " + parent_name + "/" + name);
  }
  std::map<std::string, std::string> dirs;
  for (const auto& [controller, own] : layout.own_dirs) {
    dirs[controller] = own + "/" + parent_name + "/" + name;
  }
  std::unique_ptr<TaskCgroup> cg(new TaskCgroup(layout.version, dirs));
  if (layout.version == CgroupVersion::kV2) {
    DCLOUD_TRY(enableV2Controllers(layout.own_dirs.begin()->second, parent_name));
  }
  for (const auto& [controller, own] : layout.own_dirs) {
    if (layout.version == CgroupVersion::kV1) DCLOUD_TRY(makeDir(own + "/" + parent_name));
    const std::string& dir = dirs[controller];
    if (std::find(cg->dirs_.begin(), cg->dirs_.end(), dir) != cg->dirs_.end()) continue;
    int err = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
      err = ::mkdir(dir.c_str(), 0755) == 0 ? 0 : errno;
      if (err != ENOENT) break;
      // Another sandbox on this machine removed the shared parent while it was empty, between
      // our making it and this mkdir (Sandbox's destructor tidies it away): make it again.
      if (layout.version == CgroupVersion::kV2) {
        DCLOUD_TRY(enableV2Controllers(own, parent_name));
      } else {
        DCLOUD_TRY(makeDir(own + "/" + parent_name));
      }
    }
    if (err != 0) return failedPrecondition("cannot create cgroup " + dir + ": " + errnoText(err));
    cg->dirs_.push_back(dir);  // from here on, the destructor removes it
  }
  DCLOUD_TRY(cg->applyLimits(limits));
  return cg;
}

Status TaskCgroup::applyLimits(const CgroupLimits& limits) {
  const std::string mem = dirFor("memory");
  const std::string pids = dirFor("pids");
  const std::string cpu = dirFor("cpu");
  const bool v1 = version_ == CgroupVersion::kV1;
  if (limits.memory_bytes > 0) {
    const std::string bytes = std::to_string(limits.memory_bytes);
    DCLOUD_TRY(writeFile(mem + (v1 ? "/memory.limit_in_bytes" : "/memory.max"), bytes));
    // No swap for the task: otherwise a memory hog pages out instead of being stopped.
    if (v1) {
      if (exists(mem + "/memory.memsw.limit_in_bytes")) {
        DCLOUD_TRY(writeFile(mem + "/memory.memsw.limit_in_bytes", bytes));
      }
      (void)writeFileErrno(mem + "/memory.swappiness", "0");  // refused on some kernels
    } else if (exists(mem + "/memory.swap.max")) {
      DCLOUD_TRY(writeFile(mem + "/memory.swap.max", "0"));
    }
  }
  if (limits.max_pids > 0) {
    DCLOUD_TRY(writeFile(pids + "/pids.max", std::to_string(limits.max_pids)));
  }
  if (limits.cpus > 0) {
    const std::int64_t period = 100000;
    const auto quota =
        std::max<std::int64_t>(1000, static_cast<std::int64_t>(std::llround(limits.cpus * period)));
    if (v1) {
      DCLOUD_TRY(writeFile(cpu + "/cpu.cfs_period_us", std::to_string(period)));
      DCLOUD_TRY(writeFile(cpu + "/cpu.cfs_quota_us", std::to_string(quota)));
    } else {
      DCLOUD_TRY(writeFile(cpu + "/cpu.max", std::to_string(quota) + " " + std::to_string(period)));
    }
  }
  applied_ = limits;
  return okStatus();
}

TaskCgroup::~TaskCgroup() {
  (void)destroy();
}

std::string TaskCgroup::dirFor(const std::string& controller) const {
  auto it = by_controller_.find(controller);
  return it == by_controller_.end() ? std::string() : it->second;
}

Status TaskCgroup::addProcess(pid_t pid) {
  for (const std::string& dir : dirs_) {
    DCLOUD_TRY(writeFile(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return okStatus();
}

CgroupUsage TaskCgroup::usage() const {
  CgroupUsage u;
  const std::string mem = dirFor("memory");
  if (version_ == CgroupVersion::kV1) {
    u.cpu_nanos = readInt(dirFor("cpuacct") + "/cpuacct.usage").value_or(-1);
    u.peak_memory_bytes = readInt(mem + "/memory.max_usage_in_bytes").value_or(-1);
    u.memory_limit_hits = readInt(mem + "/memory.failcnt").value_or(0);
    u.oom_killed = readKeyed(mem + "/memory.oom_control", "oom_kill").value_or(0) > 0;
  } else {
    auto usec = readKeyed(dirFor("cpu") + "/cpu.stat", "usage_usec");
    u.cpu_nanos = usec ? *usec * 1000 : -1;
    u.peak_memory_bytes = readInt(mem + "/memory.peak").value_or(-1);  // kernel >= 5.19
    u.memory_limit_hits = readKeyed(mem + "/memory.events", "max").value_or(0);
    u.oom_killed = readKeyed(mem + "/memory.events", "oom_kill").value_or(0) > 0;
  }
  return u;
}

std::vector<pid_t> TaskCgroup::processes() const {
  const std::string dir = version_ == CgroupVersion::kV1 ? dirFor("freezer") : dirFor("memory");
  return readPids(dir + "/cgroup.procs");
}

Status TaskCgroup::freeze(bool frozen) {
  using namespace std::chrono_literals;
  if (version_ == CgroupVersion::kV1) {
    const std::string state = dirFor("freezer") + "/freezer.state";
    DCLOUD_TRY(writeFile(state, frozen ? "FROZEN" : "THAWED"));
    if (!frozen) return okStatus();
    // FREEZING can linger while a task sits in an uninterruptible sleep; kill anyway after 1 s.
    if (waitUntil([&] { return readFile(state).value_or("").rfind("FROZEN", 0) == 0; }, 1s)) {
      return okStatus();
    }
    return deadlineExceeded("freezer did not reach FROZEN");
  }
  const std::string dir = dirFor("memory");
  DCLOUD_TRY(writeFile(dir + "/cgroup.freeze", frozen ? "1" : "0"));
  if (!frozen) return okStatus();
  if (waitUntil([&] { return readKeyed(dir + "/cgroup.events", "frozen").value_or(0) == 1; }, 1s)) {
    return okStatus();
  }
  return deadlineExceeded("cgroup did not freeze");
}

Status TaskCgroup::killAll() {
  using namespace std::chrono_literals;
  if (dirs_.empty()) return okStatus();
  // What bwrap left is usually exiting already (its pid namespace dies with it): give it a
  // moment before the freezer, which would cost more than the wait.
  if (std::vector<pid_t> left = processes(); !left.empty() && !waitForExit(left, 5ms)) {
    (void)waitUntil([&] { return processes().empty(); }, 2ms);
  }
  const bool v2_kill = version_ == CgroupVersion::kV2 && exists(dirFor("memory") + "/cgroup.kill");
  for (int round = 0; round < 5 && !processes().empty(); ++round) {
    if (v2_kill) {
      DCLOUD_TRY(writeFile(dirFor("memory") + "/cgroup.kill", "1"));  // kernel >= 5.14
    } else {
      // Frozen, nothing can fork between reading the list and the kills. A failed freeze still
      // kills what it can; the next round catches what forked meanwhile.
      Status frozen = freeze(true);
      for (pid_t pid : processes()) ::kill(pid, SIGKILL);
      DCLOUD_TRY(freeze(false));
      (void)frozen;
    }
    // SIGKILLed processes leave the group as they exit; a zombie is no longer listed.
    (void)waitUntil([&] { return processes().empty(); }, 2s);
  }
  if (!processes().empty()) return internalError("processes survived cgroup kill");
  return okStatus();
}

Status TaskCgroup::destroy() {
  using namespace std::chrono_literals;
  if (destroyed_) return okStatus();
  Status killed = killAll();
  Status result = killed;
  // Remove in reverse creation order; rmdir may briefly see EBUSY while exits finish.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    int err = 0;
    (void)waitUntil(
        [&] {
          err = ::rmdir(it->c_str()) == 0 || errno == ENOENT ? 0 : errno;
          return err == 0;
        },
        1s);
    if (err != 0 && result.ok()) {
      result = internalError("cannot remove cgroup " + *it + ": " + errnoText(err));
    }
  }
  destroyed_ = true;
  return result;
}

TaskCgroupPool::TaskCgroupPool(CgroupLayout layout, std::string parent_name,
                               std::string name_prefix, std::size_t spares)
    : layout_(std::move(layout)),
      parent_name_(std::move(parent_name)),
      name_prefix_(std::move(name_prefix)),
      target_spares_(spares) {
  thread_ = std::thread([this] { loop(); });
}

TaskCgroupPool::~TaskCgroupPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();  // it finishes the removals first
  std::lock_guard lock(mutex_);
  spares_.clear();  // each destructor removes its directories
}

Result<std::unique_ptr<TaskCgroup>> TaskCgroupPool::make(const CgroupLimits& limits) {
  std::string name;
  {
    std::lock_guard lock(mutex_);
    name = name_prefix_ + std::to_string(next_name_++);
  }
  return TaskCgroup::create(layout_, parent_name_, name, limits);
}

Result<std::unique_ptr<TaskCgroup>> TaskCgroupPool::take(const CgroupLimits& limits) {
  std::unique_ptr<TaskCgroup> cg;
  std::vector<std::unique_ptr<TaskCgroup>> unfit;
  {
    std::lock_guard lock(mutex_);
    if (!have_limits_ || !(limits == last_limits_)) {
      // The work changed shape: spares made for the old limits go, new ones follow.
      for (auto& spare : spares_) unfit.push_back(std::move(spare));
      spares_.clear();
      last_limits_ = limits;
      have_limits_ = true;
    }
    if (!spares_.empty()) {
      cg = std::move(spares_.front());
      spares_.pop_front();
    }
    make_failed_ = false;
  }
  for (auto& spare : unfit) release(std::move(spare));
  wake_.notify_all();  // make a replacement
  if (cg && cg->applied() == limits) return cg;
  if (cg) release(std::move(cg));
  auto made = make(limits);
  if (!made.ok()) return made.error();
  return std::move(*made);
}

void TaskCgroupPool::release(std::unique_ptr<TaskCgroup> cgroup) {
  if (!cgroup) return;
  {
    std::lock_guard lock(mutex_);
    to_remove_.push_back(std::move(cgroup));
  }
  wake_.notify_all();
}

void TaskCgroupPool::drain() {
  std::unique_lock lock(mutex_);
  drained_.wait(lock, [&] { return to_remove_.empty() && removing_ == 0; });
}

std::size_t TaskCgroupPool::sparesReady() {
  std::lock_guard lock(mutex_);
  return spares_.size();
}

void TaskCgroupPool::loop() {
  const Logger log("sandbox");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] {
      return stop_ || !to_remove_.empty() ||
             (have_limits_ && !make_failed_ && spares_.size() < target_spares_);
    });
    // Removals first: they free what the finished task held.
    if (!to_remove_.empty()) {
      std::unique_ptr<TaskCgroup> cg = std::move(to_remove_.front());
      to_remove_.pop_front();
      ++removing_;
      lock.unlock();
      Status gone = cg->destroy();
      if (!gone.ok()) log.warn("task cgroup teardown: " + gone.error().message);
      cg.reset();
      lock.lock();
      --removing_;
      if (to_remove_.empty() && removing_ == 0) drained_.notify_all();
      continue;
    }
    if (stop_) return;
    const CgroupLimits limits = last_limits_;
    lock.unlock();
    auto made = make(limits);
    lock.lock();
    if (made.ok() && !((*made)->applied() == last_limits_)) {
      to_remove_.push_back(std::move(*made));  // the limits changed meanwhile
    } else if (made.ok()) {
      spares_.push_back(std::move(*made));
    } else {
      // Retried on the next take, which then makes its own and reports the error.
      make_failed_ = true;
    }
  }
}

}  // namespace dcloud
