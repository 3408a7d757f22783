// Runs only where a CUDA device and driver exist (label gpu); skips elsewhere with the reason.

#include <gtest/gtest.h>

#include "gpu/benchmark.h"
#include "gpu/gpu_device.h"

namespace dcloud {
namespace {

TEST(CudaGpu, ListsDevicesAndBenchmarksEach) {
  auto devices = listCudaDevices();
  if (!devices.ok()) GTEST_SKIP() << "no CUDA driver: " << devices.error().message;
  if (devices->empty()) GTEST_SKIP() << "no CUDA device";
  for (const GpuDevice& d : *devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.memory_bytes, 0);
    EXPECT_GT(d.compute_units, 0);
    GpuBenchmarkOptions options;
    options.elements = 1 << 22;
    auto bench = benchmarkCuda(d, options);
    if (!bench.ok() && bench.error().message.find("without CUDA support") != std::string::npos) {
      GTEST_SKIP() << bench.error().message;
    }
    ASSERT_TRUE(bench.ok()) << bench.error().toString();
    EXPECT_TRUE(bench->verified);
    EXPECT_GT(bench->gbytes_per_s, 0);
    EXPECT_GT(bench->gflops, 0);
  }
}

}  // namespace
}  // namespace dcloud
