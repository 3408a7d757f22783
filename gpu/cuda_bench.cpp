// benchmarkCuda: wraps the nvcc-compiled benchmark, or says Unavailable when CUDA was not built.

#include "gpu/benchmark.h"

#ifdef DCLOUD_HAVE_CUDA
#include "gpu/cuda_bench_impl.h"
#endif

namespace dcloud {

Result<GpuBenchmark> benchmarkCuda(const GpuDevice& device, const GpuBenchmarkOptions& options) {
  if (device.api != "cuda") return invalidArgument("not a CUDA device: " + device.api);
  if (options.elements <= 0 || options.elements > (1LL << 28) || options.iterations <= 0 ||
      options.fma_rounds <= 0) {
    return invalidArgument("benchmark options out of range");
  }
#ifdef DCLOUD_HAVE_CUDA
  cuda_detail::CudaBenchOut out;
  char error[512] = {};
  int rc = cuda_detail::runCudaBenchmark(device.index, options.elements, options.iterations,
                                         options.fma_rounds, &out, error, sizeof(error));
  if (rc == 1 || rc == 2) return unavailable(error);
  if (rc != 0) return internalError(error);
  GpuBenchmark result;
  result.api = "cuda";
  result.device_name = device.name;
  result.elements = options.elements;
  result.saxpy_millis = out.saxpy_millis;
  result.fma_millis = out.fma_millis;
  const auto n = static_cast<double>(options.elements);
  result.gbytes_per_s = out.saxpy_millis > 0 ? 12.0 * n / (out.saxpy_millis * 1e6) : 0;
  result.gflops = out.fma_millis > 0 ? 4.0 * options.fma_rounds * n / (out.fma_millis * 1e6) : 0;
  result.verified = out.verified;
  return result;
#else
  return unavailable("dcloud was built without CUDA support (no nvcc at configure time)");
#endif
}

}  // namespace dcloud
