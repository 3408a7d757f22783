#include <gtest/gtest.h>

#include <string>

#include "gpu/benchmark.h"
#include "gpu/gpu_device.h"
#include "gpu/gpu_json.h"

namespace dcloud {
namespace {

TEST(GpuKernelSource, IsEmbedded) {
  std::string source = openClKernelSource();
  EXPECT_NE(source.find("__kernel void saxpy"), std::string::npos);
  EXPECT_NE(source.find("__kernel void fma_chain"), std::string::npos);
}

TEST(CudaDevices, ListingNeverCrashesAndFailsOnlyAsUnavailable) {
  auto devices = listCudaDevices();
  if (devices.ok()) {
    for (const GpuDevice& d : *devices) {
      EXPECT_EQ(d.api, "cuda");
      EXPECT_TRUE(d.is_gpu);
      EXPECT_GT(d.memory_bytes, 0);
      EXPECT_EQ(d.device_node.rfind("/dev/nvidia", 0), 0u);
    }
  } else {
    EXPECT_EQ(devices.error().code, ErrorCode::kUnavailable) << devices.error().toString();
    EXPECT_FALSE(devices.error().message.empty());
  }
}

TEST(CudaBenchmark, RejectsNonCudaDevice) {
  GpuDevice cpu{"opencl", "cpu", "pocl", 1 << 30, 2, false, "", 0};
  auto bench = benchmarkCuda(cpu);
  ASSERT_FALSE(bench.ok());
  EXPECT_EQ(bench.error().code, ErrorCode::kInvalidArgument);
}

TEST(CudaBenchmark, MissingDeviceIsUnavailableNotACrash) {
  if (auto devices = listCudaDevices(); devices.ok() && !devices->empty()) {
    GTEST_SKIP() << "a CUDA device is present; the gpu-labelled test covers it";
  }
  GpuDevice ghost{"cuda", "ghost", "NVIDIA Corporation", 1 << 30, 1, true, "/dev/nvidia0", 0};
  auto bench = benchmarkCuda(ghost);
  ASSERT_FALSE(bench.ok());
  EXPECT_EQ(bench.error().code, ErrorCode::kUnavailable) << bench.error().toString();
}

TEST(OpenClBenchmark, RejectsBadOptions) {
  GpuDevice d{"opencl", "x", "y", 1, 1, false, "", 0};
  GpuBenchmarkOptions options;
  options.elements = 0;
  auto bench = benchmarkOpenCl(d, options);
  ASSERT_FALSE(bench.ok());
  EXPECT_EQ(bench.error().code, ErrorCode::kInvalidArgument);
}

TEST(GpuJson, DeviceHasEveryField) {
  GpuDevice d{"cuda", "H100", "NVIDIA Corporation", 80LL << 30, 132, true, "/dev/nvidia3", 1};
  std::string json = toJson(gpuDeviceToJson(d));
  for (const char* field : {"\"api\":\"cuda\"", "\"name\":\"H100\"", "\"memory_bytes\":85899345920",
                            "\"compute_units\":132", "\"is_gpu\":true",
                            "\"device_node\":\"/dev/nvidia3\"", "\"index\":1"}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
}

}  // namespace
}  // namespace dcloud
