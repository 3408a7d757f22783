#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/test_env.h"
#include "worker/hardware.h"

namespace dcloud::testing {
namespace {

TEST(Hardware, ReportsThisMachine) {
  auto report = detectHardware(makeTempDir());
  ASSERT_TRUE(report.ok()) << report.error().toString();
  EXPECT_GE(report->cores, 1);
  EXPECT_LE(report->cores, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(report->memory_bytes, 64LL << 20);
  EXPECT_GT(report->disk_free_bytes, 0);
  EXPECT_FALSE(report->hostname.empty());
  for (const GpuDevice& gpu : report->gpus) {
    EXPECT_TRUE(gpu.is_gpu) << gpu.name << " is not a GPU (pocl's CPU device must be left out)";
  }
}

TEST(Hardware, MissingScratchDirIsInvalidArgument) {
  auto report = detectHardware("/nonexistent/scratch");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dcloud::testing
