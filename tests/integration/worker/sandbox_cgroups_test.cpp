// Task cgroups made ahead and removed behind (TaskCgroupPool), and what a task sees of them:
// fresh counters per task, its own limits, nothing of it left when run returns.

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/worker/sandbox_fixture.h"

namespace dcloud::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool isDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Polls cond for up to 5 s.
template <typename Cond>
bool eventually(Cond cond) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!cond()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Processes of uid 65534 whose command line contains needle.
int sandboxProcessesWith(const std::string& needle) {
  int found = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return -1;
  while (dirent* e = ::readdir(d)) {
    const std::string pid = e->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (::stat(("/proc/" + pid).c_str(), &st) != 0 || st.st_uid != 65534) continue;
    std::string cmdline = readAll("/proc/" + pid + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(needle) != std::string::npos) ++found;
  }
  ::closedir(d);
  return found;
}

class TaskCgroupPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto layout = detectCgroupLayout();
    ASSERT_TRUE(layout.ok()) << layout.error().toString();
    layout_ = *layout;
    prefix_ = "w" + std::to_string(::getpid()) + "-pooltest";
  }
  std::string memoryLimitFile(const TaskCgroup& cg) const {
    for (const std::string& dir : cg.dirs()) {
      const std::string v1 = dir + "/memory.limit_in_bytes";
      const std::string v2 = dir + "/memory.max";
      if (layout_.version == CgroupVersion::kV1 && ::access(v1.c_str(), F_OK) == 0) return v1;
      if (layout_.version == CgroupVersion::kV2 && ::access(v2.c_str(), F_OK) == 0) return v2;
    }
    return "";
  }
  CgroupLayout layout_;
  std::string prefix_;
};

TEST_F(TaskCgroupPoolTest, KeepsSparesWithTheLastLimitsAndAppliesNewOnes) {
  TaskCgroupPool pool(layout_, "dcloud", prefix_, 2);
  const CgroupLimits small{64 << 20, 32, 1.0};
  auto first = pool.take(small);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_TRUE((*first)->applied() == small);
  EXPECT_EQ(std::stoll(readAll(memoryLimitFile(**first))), 64 << 20);
  ASSERT_TRUE(eventually([&] { return pool.sparesReady() == 2; }));

  // A spare made for the last limits is handed out as it is.
  auto second = pool.take(small);
  ASSERT_TRUE(second.ok()) << second.error().toString();
  EXPECT_EQ(std::stoll(readAll(memoryLimitFile(**second))), 64 << 20);
  EXPECT_NE((*first)->dirs(), (*second)->dirs());

  // Other limits never inherit a spare's: the task gets exactly what it asked for.
  const CgroupLimits large{128 << 20, 64, 2.0};
  auto third = pool.take(large);
  ASSERT_TRUE(third.ok()) << third.error().toString();
  EXPECT_TRUE((*third)->applied() == large);
  EXPECT_EQ(std::stoll(readAll(memoryLimitFile(**third))), 128 << 20);
  ASSERT_TRUE(eventually([&] { return pool.sparesReady() == 2; }));
  auto fourth = pool.take(large);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(std::stoll(readAll(memoryLimitFile(**fourth))), 128 << 20);

  // Released cgroups are removed in the background; drain waits for it.
  std::vector<std::string> dirs = (*first)->dirs();
  pool.release(std::move(*first));
  pool.release(std::move(*second));
  pool.release(std::move(*third));
  pool.release(std::move(*fourth));
  pool.drain();
  for (const std::string& dir : dirs) EXPECT_FALSE(isDir(dir)) << dir;
}

TEST_F(TaskCgroupPoolTest, DestructionRemovesSparesAndPendingRemovals) {
  std::vector<std::string> dirs;
  {
    TaskCgroupPool pool(layout_, "dcloud", prefix_, 3);
    auto cg = pool.take(CgroupLimits{32 << 20, 8, 0.5});
    ASSERT_TRUE(cg.ok()) << cg.error().toString();
    dirs = (*cg)->dirs();
    ASSERT_TRUE(eventually([&] { return pool.sparesReady() == 3; }));
    pool.release(std::move(*cg));
  }
  for (const std::string& dir : dirs) EXPECT_FALSE(isDir(dir)) << dir;
  for (const std::string& parent : cgroupParentDirs(layout_, "dcloud")) {
    DIR* d = ::opendir(parent.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      EXPECT_NE(std::string(e->d_name).rfind(prefix_, 0), 0u) << parent << "/" << e->d_name;
    }
    ::closedir(d);
  }
}

// Every task gets fresh counters, even though its cgroup was made ahead of it.
TEST_F(SandboxTest, UsageIsPerTaskNotCumulative) {
  SandboxResult busy = run(spec({"/usr/bin/python3", "-c",
                                 "import time\n"
                                 "t=time.process_time()\n"
                                 "while time.process_time()-t<0.4: pass\n"
                                 "b=b'x'*(96<<20)\n"}));
  ASSERT_EQ(busy.exit_code, 0) << output();
  EXPECT_GE(busy.usage.cpu_millis, 380);
  EXPECT_GE(busy.usage.peak_memory_bytes, 96 << 20);
  for (int i = 0; i < 3; ++i) {
    SandboxResult idle = run(spec({"true"}));
    ASSERT_EQ(idle.exit_code, 0) << output();
    EXPECT_LT(idle.usage.cpu_millis, 200) << "task " << i;
    EXPECT_LT(idle.usage.peak_memory_bytes, 64 << 20) << "task " << i;
  }
}

// Tasks with other limits than the spares were made for get their own limits.
TEST_F(SandboxTest, ChangedLimitsApplyToTheNextTask) {
  SandboxSpec roomy = spec({"/usr/bin/python3", "-c", "b=b'x'*(100<<20)\nprint('ok')"});
  roomy.limits.memory_bytes = 512LL << 20;
  SandboxResult fits = run(roomy);
  EXPECT_EQ(fits.exit_code, 0) << output();
  EXPECT_FALSE(fits.out_of_memory);
  SandboxSpec tight = roomy;
  tight.limits.memory_bytes = 48LL << 20;
  SandboxResult hog = run(tight);
  EXPECT_TRUE(hog.out_of_memory) << hog.exit_code << "\n" << output();
  SandboxResult again = run(roomy);
  EXPECT_EQ(again.exit_code, 0) << output();
  EXPECT_FALSE(again.out_of_memory);
}

// A process the task left running dies with it, before run returns.
TEST_F(SandboxTest, BackgroundProcessIsGoneWhenRunReturns) {
  const auto start = Clock::now();
  SandboxResult r = run(shell("sleep 317 & echo started"));
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(sandboxProcessesWith("sleep 317"), 0);
}

}  // namespace
}  // namespace dcloud::testing
