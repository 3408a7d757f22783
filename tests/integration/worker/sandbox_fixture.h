#pragma once
// Shared set-up for the sandbox tests: one Sandbox, a fresh work dir per test, output capture,
// and a check after every test that no task cgroup of this process was left behind once the
// sandbox is gone.

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_env.h"
#include "worker/sandbox.h"

namespace dcloud::testing {

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sandbox = Sandbox::create(SandboxConfig{});
    ASSERT_TRUE(sandbox.ok()) << sandbox.error().toString();
    sandbox_ = std::move(*sandbox);
    work_dir_ = makeTempDir();
  }

  void TearDown() override {
    if (!sandbox_) return;
    const std::string prefix = "w" + std::to_string(::getpid()) + "-";
    const std::vector<std::string> dirs = sandbox_->cgroupParentDirs();
    sandbox_.reset();  // removes its spare cgroups and finishes background teardowns
    for (const std::string& dir : dirs) {
      DIR* d = ::opendir(dir.c_str());
      if (!d) continue;  // removed entirely: nothing left behind
      while (dirent* e = ::readdir(d)) {
        EXPECT_NE(std::string(e->d_name).rfind(prefix, 0), 0u)
            << "cgroup left behind: " << dir << "/" << e->d_name;
      }
      ::closedir(d);
    }
  }

  SandboxSpec spec(std::vector<std::string> argv) const {
    SandboxSpec s;
    s.argv = std::move(argv);
    s.work_dir = work_dir_;
    s.limits.memory_bytes = 512LL << 20;
    s.limits.max_processes = 64;
    s.limits.cpus = 1.0;
    s.limits.timeout_millis = 60000;
    return s;
  }

  SandboxSpec shell(const std::string& script) const { return spec({"/bin/sh", "-c", script}); }

  // Runs spec, collecting output lines into lines_.
  SandboxResult run(const SandboxSpec& s) {
    lines_.clear();
    std::atomic<bool> cancel{false};
    auto result = sandbox_->run(
        s, [this](std::string_view line) { lines_.emplace_back(line); }, cancel);
    EXPECT_TRUE(result.ok()) << result.error().toString();
    return result.ok() ? *result : SandboxResult{-1, 0, false, false, false, {}, {}};
  }

  std::string output() const {
    std::string all;
    for (const std::string& l : lines_) all += l + "\n";
    return all;
  }

  std::unique_ptr<Sandbox> sandbox_;
  std::string work_dir_;
  std::vector<std::string> lines_;
};

}  // namespace dcloud::testing
