#include "worker/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dcloud {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

const char* const kDeniedSyscalls[] = {
    "ptrace",       "mount",          "umount2",         "pivot_root",
    "chroot",       "fsopen",         "fsconfig",        "fsmount",
    "fspick",       "move_mount",     "open_tree",       "mount_setattr",
    "bpf",          "kexec_load",     "kexec_file_load", "init_module",
    "finit_module", "delete_module",  "reboot",          "swapon",
    "swapoff",      "unshare",        "setns",           "keyctl",
    "add_key",      "request_key",    "perf_event_open", "open_by_handle_at",
    "userfaultfd",  "io_uring_setup", "io_uring_enter",  "io_uring_register",
    "acct",         "quotactl",       "lookup_dcookie",
};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWUSER,  CLONE_NEWNS,  CLONE_NEWNET,
                                             CLONE_NEWPID,   CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWCGROUP};

std::string why(const char* what, int rc) {
  return std::string("seccomp: ") + what + ": " + std::strerror(-rc);
}

}  // namespace

Result<std::string> buildSeccompBpf(const SeccompOptions& options) {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return internalError("seccomp_init failed");
  const std::uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDeniedSyscalls) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: nothing to deny
    int rc = seccomp_rule_add(ctx.get(), deny, nr, 0);
    if (rc < 0) return internalError(why(name, rc));
  }
  // clone3 passes its flags in memory, out of seccomp's reach: make libc fall back to clone.
  if (int nr = seccomp_syscall_resolve_name("clone3"); nr != __NR_SCMP_ERROR) {
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (rc < 0) return internalError(why("clone3", rc));
  }
  for (unsigned long flag : kNamespaceFlags) {
    int rc = seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
    if (rc < 0) return internalError(why("clone", rc));
  }
  // socket(): allow AF_UNIX (1), and AF_INET (2) / AF_INET6 (10) when the network is allowed.
  // Every other family is denied by value, since one rule cannot test an argument twice.
  auto denyFamily = [&](scmp_compare op, scmp_datum_t value) {
    return seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                            SCMP_A0(op, value));
  };
  int rc = denyFamily(SCMP_CMP_EQ, AF_UNSPEC);
  for (int family = AF_UNIX + 1; rc >= 0 && family <= AF_INET6; ++family) {
    if (options.allow_network && (family == AF_INET || family == AF_INET6)) continue;
    rc = denyFamily(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family));
  }
  if (rc >= 0) rc = denyFamily(SCMP_CMP_GT, AF_INET6);
  if (rc < 0) return internalError(why("socket", rc));

  // libseccomp 2.5 exports only to a file descriptor.
  int fd = ::memfd_create("dcloud-seccomp", MFD_CLOEXEC);
  if (fd < 0) return internalError(std::string("memfd_create: ") + std::strerror(errno));
  rc = seccomp_export_bpf(ctx.get(), fd);
  std::string bpf;
  if (rc == 0) {
    off_t size = ::lseek(fd, 0, SEEK_END);
    bpf.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
    if (size <= 0 || ::pread(fd, bpf.data(), bpf.size(), 0) != size) rc = -EIO;
  }
  ::close(fd);
  if (rc < 0) return internalError(why("export", rc));
  return bpf;
}

}  // namespace dcloud
