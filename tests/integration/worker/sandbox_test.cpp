// Isolation: identity, capabilities, file system, network, environment, output, seccomp.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/integration/worker/sandbox_fixture.h"
#include "worker/seccomp_filter.h"

namespace dcloud::testing {
namespace {

TEST_F(SandboxTest, ExitCodePassesThrough) {
  SandboxResult r = run(shell("exit 42"));
  EXPECT_EQ(r.exit_code, 42);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_FALSE(r.timed_out || r.out_of_memory || r.cancelled);
  EXPECT_EQ(run(shell("true")).exit_code, 0);
}

TEST_F(SandboxTest, DeathBySignalIsReported) {
  SandboxResult r = run(shell("kill -TERM $$; sleep 5"));
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_FALSE(r.out_of_memory);
}

TEST_F(SandboxTest, RunsAsNobodyWithoutCapabilitiesUnderSeccomp) {
  SandboxResult r = run(shell(
      "id -u; id -g; grep -E '^(CapEff|CapPrm|Seccomp|NoNewPrivs):' /proc/self/status; hostname"));
  ASSERT_EQ(r.exit_code, 0) << output();
  std::string out = output();
  EXPECT_NE(out.find("65534\n65534\n"), std::string::npos) << out;
  EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapPrm:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("Seccomp:\t2"), std::string::npos) << out;
  EXPECT_NE(out.find("NoNewPrivs:\t1"), std::string::npos) << out;
  EXPECT_NE(out.find("sandbox\n"), std::string::npos) << out;
}

TEST_F(SandboxTest, TaskIsUid65534OnTheHostToo) {
  // The file's owner shows the host uid, whatever the namespace maps.
  SandboxResult r = run(shell("echo hello > /work/out.txt"));
  ASSERT_EQ(r.exit_code, 0) << output();
  std::ifstream in(work_dir_ + "/out.txt");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "hello");
  struct stat st {};
  ASSERT_EQ(::stat((work_dir_ + "/out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(SandboxTest, SystemDirectoriesAreReadOnly) {
  SandboxResult r =
      run(shell("touch /usr/dcloud-test 2>&1; echo rc=$?; touch /etc/x 2>&1;"
                " echo rc=$?; ls /root 2>&1; echo rc=$?"));
  EXPECT_EQ(r.exit_code, 0) << output();
  std::string out = output();
  EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
  EXPECT_EQ(out.find("rc=0"), std::string::npos) << out;
  EXPECT_FALSE(std::ifstream("/usr/dcloud-test").good());
}

TEST_F(SandboxTest, TmpIsPrivateAndWritable) {
  std::ofstream("/tmp/dcloud-sandbox-host-marker") << "host";
  SandboxResult r =
      run(shell("test ! -e /tmp/dcloud-sandbox-host-marker && echo x > /tmp/y &&"
                " cat /tmp/y && echo $HOME"));
  std::remove("/tmp/dcloud-sandbox-host-marker");
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_EQ(output(), "x\n/tmp\n");
}

// A TCP listener on the host's loopback; returns the fd and sets port.
int listenLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string connectScript(int port) {
  return "import socket,sys\n"
         "try:\n"
         "  s=socket.create_connection(('127.0.0.1'," +
         std::to_string(port) +
         "),timeout=5)\n"
         "  print('connected')\n"
         "except OSError as e:\n"
         "  print('failed', e.errno)\n"
         "  sys.exit(3)\n";
}

TEST_F(SandboxTest, NetworkIsAbsent) {
  int port = 0;
  int listener = listenLoopback(&port);
  ASSERT_GE(listener, 0);
  SandboxResult r = run(spec({"/usr/bin/python3", "-c", connectScript(port)}));
  EXPECT_EQ(r.exit_code, 3) << output();
  // seccomp refuses AF_INET sockets outright.
  EXPECT_NE(output().find("failed " + std::to_string(EAFNOSUPPORT)), std::string::npos) << output();
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0);
  ::close(listener);
}

TEST_F(SandboxTest, NetworkWhenAllowed) {
  int port = 0;
  int listener = listenLoopback(&port);
  ASSERT_GE(listener, 0);
  SandboxSpec s = spec({"/usr/bin/python3", "-c", connectScript(port)});
  s.allow_network = true;
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  int conn = ::accept(listener, nullptr, nullptr);
  EXPECT_GE(conn, 0);
  if (conn >= 0) ::close(conn);
  ::close(listener);
}

TEST_F(SandboxTest, OutputLinesArriveThroughTheCallback) {
  SandboxResult r = run(shell("echo one; echo two >&2; echo; printf 'three'"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(lines_, (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST_F(SandboxTest, EnvironmentAndReadOnlyBinds) {
  std::string parent = makeTempDir();
  ASSERT_EQ(::chmod(parent.c_str(), 0755), 0);
  std::string inputs = parent + "/job";
  ASSERT_EQ(::mkdir(inputs.c_str(), 0755), 0);
  std::ofstream(inputs + "/scene.txt") << "input data\n";
  SandboxSpec s = shell("echo $FOO; cat /in/scene.txt; echo no >> /in/scene.txt || echo ro");
  s.env["FOO"] = "bar";
  s.ro_binds.emplace_back(inputs, "/in");
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_NE(output().find("bar\ninput data\n"), std::string::npos) << output();
  EXPECT_NE(output().find("ro\n"), std::string::npos) << output();
}

TEST_F(SandboxTest, UnreachableBindSourceIsInvalidArgument) {
  // bwrap runs as the sandbox uid, which cannot pass through root's 0700 temp dir.
  std::string hidden = makeTempDir() + "/job";
  ASSERT_EQ(::mkdir(hidden.c_str(), 0755), 0);
  SandboxSpec s = shell("true");
  s.ro_binds.emplace_back(hidden, "/in");
  std::atomic<bool> cancel{false};
  auto r = sandbox_->run(s, nullptr, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("not searchable"), std::string::npos) << r.error().message;
}

TEST_F(SandboxTest, WorkerEnvironmentDoesNotLeak) {
  ::setenv("DCLOUD_SECRET_FOR_TEST", "x", 1);
  SandboxResult r = run(shell("env"));
  ::unsetenv("DCLOUD_SECRET_FOR_TEST");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(output().find("DCLOUD_SECRET_FOR_TEST"), std::string::npos) << output();
}

TEST_F(SandboxTest, SeccompDeniesNamespacesAndPtrace) {
  SandboxResult r = run(spec({"/usr/bin/python3", "-c",
                              "import ctypes,os\n"
                              "libc=ctypes.CDLL(None,use_errno=True)\n"
                              "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
                              "print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"
                              "print('pid', os.fork() > 0 or os._exit(0))\n"}));
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_NE(output().find("unshare -1 1\n"), std::string::npos) << output();  // EPERM
  EXPECT_NE(output().find("ptrace -1 1\n"), std::string::npos) << output();
  EXPECT_NE(output().find("pid True"), std::string::npos) << output();  // fork still works
}

TEST_F(SandboxTest, PoclRunsInsideTheSandbox) {
  if (!std::ifstream("/usr/bin/clinfo").good() ||
      !std::ifstream("/etc/OpenCL/vendors/pocl.icd").good()) {
    GTEST_SKIP() << "clinfo or pocl not installed";
  }
  SandboxResult r = run(spec({"/usr/bin/clinfo", "-l"}));
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_NE(output().find("Device #0"), std::string::npos) << output();
}

TEST_F(SandboxTest, BadSpecsAreRejected) {
  std::atomic<bool> cancel{false};
  auto empty = sandbox_->run(spec({}), nullptr, cancel);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  SandboxSpec missing = shell("true");
  missing.work_dir = work_dir_ + "/does-not-exist";
  auto r = sandbox_->run(missing, nullptr, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  SandboxSpec bad_node = shell("true");
  bad_node.device_nodes = {"/etc/passwd"};
  EXPECT_FALSE(sandbox_->run(bad_node, nullptr, cancel).ok());
}

TEST_F(SandboxTest, MissingCommandIsAnExitCodeNotAnError) {
  SandboxResult r = run(spec({"/usr/bin/no-such-program"}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(output().find("no-such-program"), std::string::npos) << output();
}

TEST(SandboxCreate, MissingBwrapIsFailedPrecondition) {
  SandboxConfig config;
  config.bwrap = "/nonexistent/bwrap";
  auto sandbox = Sandbox::create(config);
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(sandbox.error().message.find("bubblewrap"), std::string::npos);
}

TEST(SeccompFilter, IsABpfProgram) {
  for (bool network : {false, true}) {
    auto bpf = buildSeccompBpf(SeccompOptions{network});
    ASSERT_TRUE(bpf.ok()) << bpf.error().toString();
    EXPECT_GT(bpf->size(), 8u * 20);
    EXPECT_EQ(bpf->size() % 8, 0u);  // struct sock_filter is 8 bytes
  }
}

}  // namespace
}  // namespace dcloud::testing
