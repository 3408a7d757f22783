// OpenCL through the real ICD loader; on CI that is pocl's CPU device.

#include <gtest/gtest.h>

#include <filesystem>

#include "gpu/benchmark.h"
#include "gpu/gpu_device.h"

namespace dcloud {
namespace {

bool poclInstalled() {
  return std::filesystem::exists("/etc/OpenCL/vendors/pocl.icd");
}

TEST(OpenClDevices, PoclCpuDeviceIsListed) {
  if (!poclInstalled()) GTEST_SKIP() << "pocl-opencl-icd is not installed";
  auto devices = listOpenClDevices();
  ASSERT_TRUE(devices.ok()) << devices.error().toString();
  ASSERT_FALSE(devices->empty());
  bool found_cpu = false;
  for (std::size_t i = 0; i < devices->size(); ++i) {
    const GpuDevice& d = (*devices)[i];
    EXPECT_EQ(d.api, "opencl");
    EXPECT_EQ(d.index, static_cast<int>(i));
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.memory_bytes, 0);
    EXPECT_GT(d.compute_units, 0);
    if (!d.is_gpu) found_cpu = true;
  }
  EXPECT_TRUE(found_cpu) << "pocl's device should be reported as not a GPU";
}

TEST(OpenClDevices, AllDevicesIncludesOpenCl) {
  if (!poclInstalled()) GTEST_SKIP() << "pocl-opencl-icd is not installed";
  auto all = listAllDevices();
  EXPECT_TRUE(
      std::any_of(all.begin(), all.end(), [](const GpuDevice& d) { return d.api == "opencl"; }));
}

TEST(OpenClBenchmark, SaxpyAndFmaAreCorrectOnFirstDevice) {
  if (!poclInstalled()) GTEST_SKIP() << "pocl-opencl-icd is not installed";
  auto devices = listOpenClDevices();
  ASSERT_TRUE(devices.ok() && !devices->empty());
  GpuBenchmarkOptions options;
  options.elements = 1 << 16;
  options.iterations = 2;
  options.fma_rounds = 64;
  auto bench = benchmarkOpenCl(devices->front(), options);
  ASSERT_TRUE(bench.ok()) << bench.error().toString();
  EXPECT_TRUE(bench->verified);
  EXPECT_EQ(bench->api, "opencl");
  EXPECT_EQ(bench->elements, options.elements);
  EXPECT_GT(bench->gbytes_per_s, 0);
  EXPECT_GT(bench->gflops, 0);
}

TEST(OpenClBenchmark, StaleDeviceIsNotFound) {
  if (!poclInstalled()) GTEST_SKIP() << "pocl-opencl-icd is not installed";
  GpuDevice gone{"opencl", "no such device", "nobody", 1, 1, false, "", 999};
  auto bench = benchmarkOpenCl(gone);
  ASSERT_FALSE(bench.ok());
  EXPECT_EQ(bench.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace dcloud
