// Sandbox: spawn a child that joins the task cgroups, drops to the sandbox uid and execs bwrap;
// then pump output, watch the clock and the cancel flag, and tear the cgroups down.

#include "worker/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "worker/seccomp_filter.h"

namespace dcloud {
namespace {

// bwrap adds two processes of its own (the outer monitor and the namespace's pid 1).
constexpr int kBwrapProcesses = 2;
constexpr std::size_t kMaxLine = 64 * 1024;
// Fixed fd numbers in the child, as passed to bwrap.
constexpr int kSeccompFd = 3;
constexpr int kExecErrorFd = 4;
constexpr std::size_t kMaxRoBinds = 200;
// Parent-side copies live above this, so the child's dup2s never overwrite a source.
constexpr int kHighFd = 256;
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// A CLOEXEC copy at or above kHighFd (the original is closed).
Result<UniqueFd> lift(int fd, const std::string& what) {
  if (fd < 0) return internalError(errnoText(what));
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
  int err = errno;
  ::close(fd);
  if (high < 0) return internalError(what + ": F_DUPFD: " + std::strerror(err));
  return UniqueFd(high);
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internalError(errnoText("pipe2"));
  Pipe p;
  auto r = lift(fds[0], "pipe");
  auto w = lift(fds[1], "pipe");
  if (!r.ok()) return r.error();
  if (!w.ok()) return w.error();
  p.read = std::move(*r);
  p.write = std::move(*w);
  return p;
}

Result<std::string> findExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return failedPrecondition("bubblewrap not executable at " + name);
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : kDefaultPath;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return failedPrecondition("bubblewrap (" + name +
                            ") not found in PATH; install the bubblewrap package");
}

bool isAbsoluteClean(const std::string& p) {
  return !p.empty() && p[0] == '/' && p.find("/../") == std::string::npos &&
         (p.size() < 3 || p.compare(p.size() - 3, 3, "/..") != 0) &&
         p.find('\0') == std::string::npos;
}

Status validate(const SandboxSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return invalidArgument("sandbox: empty argv");
  if (!isAbsoluteClean(spec.work_dir)) {
    return invalidArgument("sandbox: work_dir must be an absolute path: " + spec.work_dir);
  }
  struct stat st {};
  if (::stat(spec.work_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return invalidArgument("sandbox: work_dir is not a directory: " + spec.work_dir);
  }
  if (spec.ro_binds.size() > kMaxRoBinds) return invalidArgument("sandbox: too many ro_binds");
  for (const auto& [host, inside] : spec.ro_binds) {
    if (!isAbsoluteClean(host) || !isAbsoluteClean(inside) || inside == "/") {
      return invalidArgument("sandbox: bad ro_bind " + host + " -> " + inside);
    }
  }
  for (const std::string& node : spec.device_nodes) {
    if (!isAbsoluteClean(node) || node.rfind("/dev/", 0) != 0) {
      return invalidArgument("sandbox: device node must be under /dev: " + node);
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return invalidArgument("sandbox: bad environment variable name: " + key);
    }
  }
  return okStatus();
}

// bwrap resolves bind sources as the sandbox uid, so every directory above a source must be
// searchable by it; checking first turns bwrap's terse failure into a clear error.
Status checkReachable(const std::string& path, uid_t uid, gid_t gid) {
  std::string dir = path;
  while (dir.size() > 1) {
    dir = dir.substr(0, dir.rfind('/'));
    if (dir.empty()) dir = "/";
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return invalidArgument(errnoText("sandbox: stat " + dir));
    mode_t bit = st.st_uid == uid ? S_IXUSR : st.st_gid == gid ? S_IXGRP : S_IXOTH;
    if ((st.st_mode & bit) == 0) {
      return invalidArgument("sandbox: uid " + std::to_string(uid) + " cannot reach " + path +
                             ": " + dir + " is not searchable by it (chmod o+x)");
    }
  }
  return okStatus();
}

// The task must be able to write its scratch directory; lchown never follows a symlink out.
Status chownTree(const std::string& root, uid_t uid, gid_t gid) {
  namespace fs = std::filesystem;
  if (::lchown(root.c_str(), uid, gid) != 0) return internalError(errnoText("chown " + root));
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return internalError(errnoText("chown " + it->path().string()));
    }
  }
  if (ec) return internalError("chown " + root + ": " + ec.message());
  return okStatus();
}

// Splits the merged output into lines for the callback.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& sink) : sink_(sink) {}
  void feed(const char* data, std::size_t n) {
    buffer_.append(data, n);
    std::size_t start = 0;
    for (;;) {
      std::size_t nl = buffer_.find('\n', start);
      if (nl == std::string::npos) break;
      emit(std::string_view(buffer_).substr(start, nl - start));
      start = nl + 1;
    }
    buffer_.erase(0, start);
    while (buffer_.size() >= kMaxLine) {
      emit(std::string_view(buffer_).substr(0, kMaxLine));
      buffer_.erase(0, kMaxLine);
    }
  }
  void finish() {
    if (!buffer_.empty()) emit(buffer_);
    buffer_.clear();
  }

 private:
  void emit(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (sink_) sink_(line);
  }
  const std::function<void(std::string_view)>& sink_;
  std::string buffer_;
};

// Reads what is available; false at EOF or on error.
bool pump(int fd, LineSplitter& lines) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      lines.feed(buf, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof(buf)) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

struct ChildPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::pair<int, int>> fd_moves;  // parent fd -> child fd
  std::vector<int> cgroup_procs_fds;          // the task cgroups' join files, open for writing
  bool drop_privileges = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// What the spawned child reads; it shares the parent's memory until it execs.
struct ChildContext {
  const ChildPlan* plan;
  char* const* argv;
  char* const* envp;
  int error_fd;
  pid_t parent;
};

// Runs in a child that shares the parent's memory (clone with CLONE_VM | CLONE_VFORK, as
// posix_spawn does) while the calling thread waits for its exec: raw system calls only, nothing
// that allocates or takes a lock. setgroups/setgid/setuid go through syscall(): glibc's wrappers
// would run its all-threads "setxid" protocol over the parent's thread list (locks, signals to
// the parent's threads). errno writes land in the waiting thread's errno, which is harmless.
// Stages are reported to the parent on failure.
[[noreturn]] void childMain(const ChildContext& c) {
  const ChildPlan& plan = *c.plan;
  auto fail = [&](int stage) {
    int msg[2] = {stage, errno};
    if (::write(kExecErrorFd, msg, sizeof(msg)) < 0) {
      // Nothing left to tell; the parent sees EOF and a 127 exit.
    }
    ::_exit(127);
  };
  if (::dup2(c.error_fd, kExecErrorFd) < 0) ::_exit(127);
  ::fcntl(kExecErrorFd, F_SETFD, FD_CLOEXEC);
  // Into the task cgroups before anything runs ("0" names the writer), while still root.
  for (int fd : plan.cgroup_procs_fds) {
    if (::write(fd, "0", 1) != 1) fail(7);
  }
  for (const auto& [from, to] : plan.fd_moves) {
    if (::dup2(from, to) < 0) fail(1);  // dup2 clears CLOEXEC on the copy
  }
  int first_free = kExecErrorFd + 1;
  for (const auto& move : plan.fd_moves) first_free = std::max(first_free, move.second + 1);
  if (::syscall(SYS_close_range, first_free, ~0U, 0) != 0) {
    for (int fd = first_free; fd < 4096; ++fd) ::close(fd);
  }
  ::setsid();
  if (plan.drop_privileges) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) fail(2);
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) fail(3);
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) fail(4);
  }
  // After the uid change, which clears it: bwrap dies with the thread that runs the sandbox.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(5);
  if (::getppid() != c.parent) ::_exit(127);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // SIG_IGN survives exec
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct rlimit no_core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::execve(c.argv[0], c.argv, c.envp);
  fail(6);
  ::_exit(127);  // unreachable; fail does not return
}

int childEntry(void* arg) {
  childMain(*static_cast<const ChildContext*>(arg));
}

// Starts the child without copying the parent's address space (fork() of the multi-threaded
// worker cost it more CPU than bwrap's own start): the child runs on its own stack in the
// parent's memory, and this thread waits until the child has exec'd bwrap or died. Signals stay
// blocked on this thread meanwhile, so no handler of the parent runs on the child's stack; the
// child resets every handler before it unblocks them.
Result<pid_t> spawnChild(const ChildContext& context) {
  constexpr std::size_t kStackBytes = 256 * 1024;
  void* stack = ::mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return internalError(errnoText("mmap for the sandbox child"));
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t child =
      ::clone(childEntry, static_cast<char*>(stack) + kStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD,
              const_cast<ChildContext*>(&context));
  const int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStackBytes);
  if (child < 0) return internalError(std::string("clone: ") + std::strerror(err));
  return child;
}

std::string stageText(int stage) {
  switch (stage) {
    case 1: return "dup2";
    case 2: return "setgroups";
    case 3: return "setgid";
    case 4: return "setuid";
    case 5: return "prctl(PR_SET_PDEATHSIG)";
    case 7: return "joining the task cgroup";
    default: return "exec bwrap";
  }
}

std::int64_t millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

std::int64_t microsBetween(std::chrono::steady_clock::time_point a,
                           std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

}  // namespace

std::vector<std::string> bwrapArguments(const std::string& bwrap_path, const SandboxSpec& spec,
                                        int seccomp_fd) {
  std::vector<std::string> a = {bwrap_path, "--unshare-all"};
  if (spec.allow_network) a.push_back("--share-net");
  for (const char* arg : {"--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname",
                          "sandbox", "--ro-bind", "/usr", "/usr"}) {
    a.emplace_back(arg);
  }
  // Merged-/usr hosts have /bin etc. as symlinks into /usr; others get read-only binds.
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    if (std::filesystem::is_symlink(top, ec)) {
      a.insert(a.end(), {"--symlink", std::filesystem::read_symlink(top, ec).string(), top});
    } else if (std::filesystem::is_directory(top, ec)) {
      a.insert(a.end(), {"--ro-bind", top, top});
    }
  }
  // Blender finds BLAS/LAPACK through /etc/alternatives; pocl needs its ICD file and the CPU
  // topology in sysfs (ENV.md sections 6 and 9).
  std::vector<std::string> ro_try = {"/etc/alternatives", "/etc/fonts", "/etc/ld.so.cache",
                                     "/etc/OpenCL", "/sys/devices/system/cpu"};
  if (spec.allow_network) {
    ro_try.insert(ro_try.end(), {"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl",
                                 "/etc/ca-certificates"});
  }
  for (const std::string& path : ro_try) a.insert(a.end(), {"--ro-bind-try", path, path});
  a.insert(a.end(), {"--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"});
  a.insert(a.end(), {"--bind", spec.work_dir, "/work"});
  for (const auto& [host, inside] : spec.ro_binds) a.insert(a.end(), {"--ro-bind", host, inside});
  for (const std::string& node : spec.device_nodes) a.insert(a.end(), {"--dev-bind", node, node});
  // The root is bwrap's own tmpfs; read-only, so only /work and /tmp take writes.
  a.insert(a.end(), {"--remount-ro", "/", "--chdir", "/work", "--seccomp",
                     std::to_string(seccomp_fd), "--"});
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

Sandbox::Sandbox(SandboxConfig config, std::string bwrap_path, CgroupLayout layout,
                 std::string seccomp_offline, std::string seccomp_online)
    : config_(std::move(config)),
      bwrap_path_(std::move(bwrap_path)),
      layout_(std::move(layout)),
      seccomp_offline_(std::move(seccomp_offline)),
      seccomp_online_(std::move(seccomp_online)),
      pool_(std::make_unique<TaskCgroupPool>(layout_, config_.cgroup_parent_name,
                                             "w" + std::to_string(::getpid()) + "-",
                                             config_.spare_cgroups)) {}

Sandbox::~Sandbox() {
  pool_.reset();  // removes the spares and what is still being torn down
  for (const std::string& dir : cgroupParentDirs()) ::rmdir(dir.c_str());  // fails if in use
}

std::vector<std::string> Sandbox::cgroupParentDirs() const {
  return dcloud::cgroupParentDirs(layout_, config_.cgroup_parent_name);
}

Result<std::unique_ptr<Sandbox>> Sandbox::create(const SandboxConfig& config) {
  auto bwrap = findExecutable(config.bwrap);
  if (!bwrap.ok()) return bwrap.error();
  if (::geteuid() != 0) {
    return failedPrecondition("the sandbox needs root: it creates cgroups and drops to uid " +
                              std::to_string(config.sandbox_uid));
  }
  auto layout = detectCgroupLayout();
  if (!layout.ok()) return layout.error();
  removeStaleTaskCgroups(*layout, config.cgroup_parent_name);
  // Prove now that cgroups can be created and limited, rather than on the first task.
  static std::atomic<int> probes{0};
  auto probe = TaskCgroup::create(
      *layout, config.cgroup_parent_name,
      "w" + std::to_string(::getpid()) + "-probe" + std::to_string(probes.fetch_add(1)),
      CgroupLimits{64 << 20, 16, 1.0});
  if (!probe.ok()) {
    return failedPrecondition("cgroups unusable: " + probe.error().message);
  }
  if (Status gone = (*probe)->destroy(); !gone.ok()) return gone.error();
  // The two filters never change: compiled once here, not by libseccomp on every task.
  auto offline = buildSeccompBpf(SeccompOptions{false});
  if (!offline.ok()) return offline.error();
  auto online = buildSeccompBpf(SeccompOptions{true});
  if (!online.ok()) return online.error();
  return std::unique_ptr<Sandbox>(
      new Sandbox(config, *bwrap, *layout, std::move(*offline), std::move(*online)));
}

Result<SandboxResult> Sandbox::run(const SandboxSpec& spec,
                                   const std::function<void(std::string_view)>& on_output_line,
                                   const std::atomic<bool>& cancel) {
  const auto begin = std::chrono::steady_clock::now();
  DCLOUD_TRY(validate(spec));
  const bool as_root = ::geteuid() == 0;
  const auto uid = static_cast<uid_t>(config_.sandbox_uid);
  const auto gid = static_cast<gid_t>(config_.sandbox_gid);
  if (as_root) {
    DCLOUD_TRY(checkReachable(spec.work_dir, uid, gid));
    for (const auto& bind : spec.ro_binds) DCLOUD_TRY(checkReachable(bind.first, uid, gid));
    DCLOUD_TRY(chownTree(spec.work_dir, uid, gid));
  }

  // Everything the child needs is prepared before fork: it may only make raw system calls.
  const std::string& bpf = spec.allow_network ? seccomp_online_ : seccomp_offline_;
  auto seccomp_fd = lift(::memfd_create("dcloud-seccomp", MFD_CLOEXEC), "memfd_create");
  if (!seccomp_fd.ok()) return seccomp_fd.error();
  if (::write(seccomp_fd->get(), bpf.data(), bpf.size()) != static_cast<ssize_t>(bpf.size()) ||
      ::lseek(seccomp_fd->get(), 0, SEEK_SET) != 0) {
    return internalError(errnoText("writing the seccomp program"));
  }
  ChildPlan plan;
  plan.fd_moves = {{seccomp_fd->get(), kSeccompFd}};
  auto devnull = lift(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null");
  auto output = makePipe();
  auto exec_error = makePipe();
  if (!devnull.ok()) return devnull.error();
  if (!output.ok()) return output.error();
  if (!exec_error.ok()) return exec_error.error();
  plan.fd_moves.insert(plan.fd_moves.begin(),
                       {{devnull->get(), 0}, {output->write.get(), 1}, {output->write.get(), 2}});
  plan.args = bwrapArguments(bwrap_path_, spec, kSeccompFd);
  std::map<std::string, std::string> env = {
      {"PATH", kDefaultPath}, {"HOME", "/tmp"}, {"LANG", "C.UTF-8"}, {"TMPDIR", "/tmp"}};
  for (const auto& [key, value] : spec.env) env[key] = value;
  for (const auto& [key, value] : env) plan.env.push_back(key + "=" + value);
  plan.drop_privileges = as_root;
  plan.uid = uid;
  plan.gid = gid;
  std::vector<char*> argv, envp;
  for (std::string& s : plan.args) argv.push_back(s.data());
  for (std::string& s : plan.env) envp.push_back(s.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  CgroupLimits limits;
  limits.memory_bytes = spec.limits.memory_bytes;
  limits.max_pids = spec.limits.max_processes > 0 ? spec.limits.max_processes + kBwrapProcesses : 0;
  limits.cpus = spec.limits.cpus;
  auto cgroup = pool_->take(limits);
  if (!cgroup.ok()) return cgroup.error();
  TaskCgroup& cg = **cgroup;
  std::vector<UniqueFd> cgroup_procs;
  // v1: the child moves itself through "tasks" (its one thread, which is the whole process): a
  // write of "0" there skips the global threadgroup lock, whose first writer waits for an RCU
  // grace period (~8 ms here, the largest part of a `true` task's start). v2 refuses thread moves
  // between domain cgroups, so it writes cgroup.procs.
  const char* join_file = layout_.version == CgroupVersion::kV1 ? "/tasks" : "/cgroup.procs";
  for (const std::string& dir : cg.dirs()) {
    const std::string procs = dir + join_file;
    auto fd = lift(::open(procs.c_str(), O_WRONLY | O_CLOEXEC), "open " + procs);
    if (!fd.ok()) return fd.error();
    plan.cgroup_procs_fds.push_back(fd->get());
    cgroup_procs.push_back(std::move(*fd));
  }

  const auto start = std::chrono::steady_clock::now();
  const ChildContext context{&plan, argv.data(), envp.data(), exec_error->write.get(), ::getpid()};
  auto spawned = spawnChild(context);
  if (!spawned.ok()) return spawned.error();
  const pid_t child = *spawned;
  const auto execed = std::chrono::steady_clock::now();
  output->write.reset();
  exec_error->write.reset();
  cgroup_procs.clear();
  auto reap = [&](int options, int* status, rusage* ru) {
    pid_t r;
    do {
      r = ::wait4(child, status, options, ru);
    } while (r < 0 && errno == EINTR);
    return r;
  };
  int status = 0;
  rusage ru{};
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(exec_error->read.get(), report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(report))) {
    reap(0, &status, &ru);
    return failedPrecondition("sandbox: " + stageText(report[0]) +
                              " failed: " + std::strerror(report[1]));
  }

  // pidfd (Linux >= 5.3) makes the exit wake poll; without it, poll ticks every 20 ms.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
  ::fcntl(output->read.get(), F_SETFL, O_NONBLOCK);
  LineSplitter lines(on_output_line);
  SandboxResult result;
  bool output_open = true;
  bool exited = false;
  bool killed = false;
  while (!exited) {
    int wait_ms = pidfd.get() >= 0 ? 100 : 20;
    if (spec.limits.timeout_millis > 0 && !killed) {
      std::int64_t left = spec.limits.timeout_millis - millisSince(start);
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, wait_ms));
    }
    pollfd fds[2] = {{output->read.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (!output_open) fds[0].fd = -1;
    ::poll(fds, 2, wait_ms);
    if (output_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      output_open = pump(output->read.get(), lines);
    }
    if (reap(WNOHANG, &status, &ru) == child) {
      exited = true;
      break;
    }
    if (killed) continue;
    if (cancel.load()) {
      result.cancelled = true;
    } else if (spec.limits.timeout_millis > 0 && millisSince(start) >= spec.limits.timeout_millis) {
      result.timed_out = true;
    } else {
      continue;
    }
    killed = true;
    (void)cg.killAll();  // bwrap is in the group too; the loop then reaps it
  }
  const auto reaped = std::chrono::steady_clock::now();
  result.usage.wall_millis = millisSince(start);
  const CgroupUsage usage = cg.usage();
  // Anything that outlived bwrap dies here (its pid namespace is gone, so usually nothing is
  // left); the directories are removed in the background, off the way to the completion.
  Status torn_down = cg.killAll();
  pool_->release(std::move(*cgroup));
  // Every writer is gone now, so the pipe reaches EOF; the bound guards against surprises.
  for (int i = 0; output_open && i < 100; ++i) {
    pollfd fd = {output->read.get(), POLLIN, 0};
    ::poll(&fd, 1, 20);
    output_open = pump(output->read.get(), lines);
  }
  lines.finish();
  result.timings.prepare_micros = microsBetween(begin, start);
  result.timings.spawn_micros = microsBetween(start, execed);
  result.timings.run_micros = microsBetween(execed, reaped);
  result.timings.teardown_micros = microsBetween(reaped, std::chrono::steady_clock::now());

  if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
    result.exit_code = 128 + result.term_signal;
  } else {
    result.exit_code = WEXITSTATUS(status);
    // bwrap reports a task killed by signal N as exit status 128 + N.
    if (result.exit_code > 128 && result.exit_code < 128 + NSIG) {
      result.term_signal = result.exit_code - 128;
    }
  }
  const std::int64_t rusage_cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
  result.usage.cpu_millis = usage.cpu_nanos >= 0 ? usage.cpu_nanos / 1000000 : rusage_cpu;
  result.usage.peak_memory_bytes = usage.peak_memory_bytes >= 0
                                       ? usage.peak_memory_bytes
                                       : static_cast<std::int64_t>(ru.ru_maxrss) * 1024;
  // Without an OOM counter, a SIGKILL nobody sent while usage touched the limit is the OOM killer.
  const bool at_limit = spec.limits.memory_bytes > 0 &&
                        result.usage.peak_memory_bytes >= spec.limits.memory_bytes * 95 / 100;
  result.out_of_memory = usage.oom_killed || (result.term_signal == SIGKILL && !killed && at_limit);
  if (!torn_down.ok()) return torn_down.error();
  return result;
}

}  // namespace dcloud
