#pragma once
// The seccomp filter every sandboxed task runs under, built in-process with libseccomp and handed
// to bwrap as a BPF program (bwrap --seccomp FD).

#include <string>

#include "common/result.h"

namespace dcloud {

struct SeccompOptions {
  bool allow_network = false;  // also allow AF_INET and AF_INET6 sockets
};

// A raw BPF program (struct sock_filter array) for the native architecture. Denied calls fail
// with EPERM (clone3 with ENOSYS, so libc falls back to clone, whose flags can be checked);
// calls from a foreign ABI (e.g. 32-bit int 0x80) kill the process.
// Denied: ptrace, mount and the new mount API, umount2, pivot_root, chroot, bpf, kexec_*,
// *_module, reboot, swapon/off, unshare, setns, clone with namespace flags, keyctl, add_key,
// request_key, perf_event_open, open_by_handle_at, userfaultfd, io_uring_* (its socket op would
// bypass the socket rule), and socket() for every family except AF_UNIX (+ inet when allowed).
Result<std::string> buildSeccompBpf(const SeccompOptions& options);

}  // namespace dcloud
