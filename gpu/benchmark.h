#pragma once
// Small device benchmarks run when a worker arrives, so the scheduler can price by measured
// throughput. Each one checks its results: a wrong answer is an Internal error, not a number.

#include <cstdint>
#include <string>

#include "common/result.h"
#include "gpu/gpu_device.h"

namespace dcloud {

struct GpuBenchmarkOptions {
  std::int64_t elements = 1 << 20;  // vector length for saxpy and the FMA chain
  int iterations = 5;               // timed repetitions; the best one counts
  int fma_rounds = 256;             // FMA pairs per element in the compute kernel
};

struct GpuBenchmark {
  std::string api;  // "opencl" or "cuda"
  std::string device_name;
  double gbytes_per_s = 0;  // saxpy: 12 bytes moved per element
  double gflops = 0;        // FMA chain: 2 flops per FMA
  double saxpy_millis = 0;  // best saxpy run
  double fma_millis = 0;    // best FMA chain run
  std::int64_t elements = 0;
  bool verified = false;  // results matched the host's computation
};

// Runs the embedded OpenCL kernels (gpu/kernels/saxpy.cl) on device (api "opencl").
// InvalidArgument for a non-OpenCL device, NotFound if the device is gone, Unavailable on OpenCL
// failures, Internal when results are wrong.
Result<GpuBenchmark> benchmarkOpenCl(const GpuDevice& device,
                                     const GpuBenchmarkOptions& options = {});

// The same on CUDA (gpu/cuda_bench.cu). Unavailable when built without CUDA or when the driver or
// device is missing.
Result<GpuBenchmark> benchmarkCuda(const GpuDevice& device,
                                   const GpuBenchmarkOptions& options = {});

// The kernels' OpenCL C source, embedded at build time.
const char* openClKernelSource();

}  // namespace dcloud
