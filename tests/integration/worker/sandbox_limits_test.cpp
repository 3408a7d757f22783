// Limits and lifecycle: memory, processes, CPU accounting, timeout, cancel, Blender.

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/integration/worker/sandbox_fixture.h"

namespace dcloud::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t millisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

TEST_F(SandboxTest, MemoryHogIsKilledAndReportedOutOfMemory) {
  SandboxSpec s = spec({"/usr/bin/python3", "-c",
                        "chunks=[]\n"
                        "for i in range(64):\n"
                        "  chunks.append(bytearray(16<<20))\n"
                        "  print(i, flush=True)\n"
                        "print('survived')\n"});
  s.limits.memory_bytes = 128LL << 20;
  SandboxResult r = run(s);
  EXPECT_TRUE(r.out_of_memory) << output();
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(output().find("survived"), std::string::npos);
  EXPECT_GE(r.usage.peak_memory_bytes, 100LL << 20);
  EXPECT_LE(r.usage.peak_memory_bytes, 128LL << 20);
}

TEST_F(SandboxTest, ModestMemoryUseIsNotOutOfMemory) {
  SandboxSpec s = spec({"/usr/bin/python3", "-c", "b=bytearray(32<<20); print(len(b))"});
  s.limits.memory_bytes = 256LL << 20;
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_FALSE(r.out_of_memory);
  EXPECT_GE(r.usage.peak_memory_bytes, 32LL << 20);
}

TEST_F(SandboxTest, ProcessLimitContainsForks) {
  // Forks sleepers until the kernel refuses, and reports how many it got.
  SandboxSpec s = spec({"/usr/bin/python3", "-c",
                        "import os,signal,time\n"
                        "kids=[]\n"
                        "try:\n"
                        "  for i in range(500):\n"
                        "    p=os.fork()\n"
                        "    if p==0:\n"
                        "      time.sleep(30); os._exit(0)\n"
                        "    kids.append(p)\n"
                        "except OSError as e:\n"
                        "  print('refused', e.errno)\n"
                        "print('forked', len(kids))\n"
                        "for p in kids: os.kill(p, signal.SIGKILL)\n"
                        "for p in kids: os.waitpid(p, 0)\n"});
  s.limits.max_processes = 16;
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_NE(output().find("refused 11"), std::string::npos) << output();  // EAGAIN
  ASSERT_FALSE(lines_.empty());
  int forked = std::stoi(lines_.back().substr(std::string("forked ").size()));
  EXPECT_GT(forked, 0);
  EXPECT_LT(forked, 16);  // python itself counts too
}

TEST_F(SandboxTest, ForkBombIsContainedAndTornDown) {
  // The bomb starts from an inner shell and the outer one only execs afterwards, so the outer
  // shell never needs a fork once the process table is exhausted and stays to time out.
  SandboxSpec s = shell("sh -c 'bomb() { bomb | bomb & }; bomb'; exec sleep 60");
  s.limits.max_processes = 32;
  s.limits.timeout_millis = 1500;
  auto start = Clock::now();
  SandboxResult r = run(s);
  EXPECT_TRUE(r.timed_out) << r.exit_code << "\n" << output();
  EXPECT_LT(millisSince(start), 15000);
}

TEST_F(SandboxTest, TimeoutKills) {
  SandboxSpec s = shell("echo started; sleep 30; echo finished");
  s.limits.timeout_millis = 500;
  auto start = Clock::now();
  SandboxResult r = run(s);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_GE(r.usage.wall_millis, 500);
  EXPECT_LT(millisSince(start), 5000);
  EXPECT_EQ(output(), "started\n");
}

TEST_F(SandboxTest, CancelKillsWithinASecond) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  std::atomic<bool> cancel{false};
  Clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return started; });
    cancelled_at = Clock::now();
    cancel = true;
  });
  auto result = sandbox_->run(
      shell("echo started; exec sleep 30"),
      [&](std::string_view line) {
        if (line == "started") {
          std::lock_guard<std::mutex> lock(mu);
          started = true;
          cv.notify_all();
        }
      },
      cancel);
  auto returned_at = Clock::now();
  canceller.join();
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_TRUE(result->cancelled);
  EXPECT_FALSE(result->timed_out);
  EXPECT_LT(
      std::chrono::duration_cast<std::chrono::milliseconds>(returned_at - cancelled_at).count(),
      1000);
}

TEST_F(SandboxTest, CpuUsageIsPlausibleForABusyLoop) {
  SandboxSpec s = spec({"/usr/bin/python3", "-c",
                        "import time\n"
                        "t=time.process_time()\n"
                        "while time.process_time()-t<0.5: pass\n"});
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  EXPECT_GE(r.usage.cpu_millis, 480);
  EXPECT_LE(r.usage.cpu_millis, 3000);
  EXPECT_GE(r.usage.wall_millis, 500);
}

TEST_F(SandboxTest, CpuQuotaThrottles) {
  SandboxSpec s = spec({"/usr/bin/python3", "-c",
                        "import time\n"
                        "t=time.process_time()\n"
                        "while time.process_time()-t<0.3: pass\n"});
  s.limits.cpus = 0.25;
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  // 0.3 s of CPU at a quarter CPU takes at least ~1 s of wall time.
  EXPECT_GE(r.usage.wall_millis, 900);
}

TEST_F(SandboxTest, BlenderRendersAFrame) {
  if (!std::ifstream("/usr/bin/blender").good()) GTEST_SKIP() << "blender is not installed";
  const std::string scene =
      "import bpy\n"
      "bpy.ops.wm.read_factory_settings(use_empty=True)\n"
      "scn=bpy.context.scene\n"
      "bpy.ops.mesh.primitive_uv_sphere_add(location=(0,0,0))\n"
      "bpy.ops.object.light_add(type='SUN', location=(2,2,5))\n"
      "bpy.ops.object.camera_add(location=(0,-6,2), rotation=(1.3,0,0))\n"
      "scn.camera=bpy.context.object\n"
      "scn.render.engine='CYCLES'\n"
      "scn.cycles.device='CPU'\n"
      "scn.cycles.samples=4\n"
      "scn.cycles.use_denoising=False\n"
      "scn.render.resolution_x=64\n"
      "scn.render.resolution_y=48\n"
      "scn.render.filepath='/work/out.png'\n"
      "bpy.ops.render.render(write_still=True)\n";
  SandboxSpec s =
      spec({"/usr/bin/blender", "-b", "--factory-startup", "-t", "1", "--python-expr", scene});
  s.limits.memory_bytes = 2LL << 30;
  s.limits.max_processes = 256;
  s.limits.cpus = 2;
  s.limits.timeout_millis = 180000;
  SandboxResult r = run(s);
  EXPECT_EQ(r.exit_code, 0) << output();
  std::ifstream png(work_dir_ + "/out.png", std::ios::binary);
  ASSERT_TRUE(png.good()) << output();
  char magic[8] = {};
  png.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace dcloud::testing
