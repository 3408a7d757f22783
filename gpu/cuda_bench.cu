// CUDA benchmark kernels, the same work as kernels/saxpy.cl. Built only with a CUDA compiler and
// linked against cudart_static, so a machine without a driver gets an error code, not a crash.

#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "gpu/cuda_bench_impl.h"

namespace dcloud::cuda_detail {
namespace {

__global__ void saxpyKernel(float a, const float* x, const float* y, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a * x[i] + y[i];
}

__global__ void fmaChainKernel(float* data, int rounds, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float v = data[i];
  float w = 1.0f - v;
  for (int r = 0; r < rounds; ++r) {
    v = fmaf(v, 0.999f, 0.001f);
    w = fmaf(w, 0.999f, 0.001f);
  }
  data[i] = v + w;
}

// Frees device buffers on every exit path.
struct DeviceBuffers {
  float* x = nullptr;
  float* y = nullptr;
  float* out = nullptr;
  ~DeviceBuffers() {
    cudaFree(x);
    cudaFree(y);
    cudaFree(out);
  }
};

int fail(int code, cudaError_t rc, const char* what, char* error, std::size_t len) {
  std::snprintf(error, len, "%s: %s (%d)", what, cudaGetErrorString(rc), static_cast<int>(rc));
  return code;
}

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int runCudaBenchmark(int ordinal, long long elements, int iterations, int fma_rounds,
                     CudaBenchOut* out, char* error, std::size_t error_len) {
  int count = 0;
  cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess) return fail(1, rc, "cudaGetDeviceCount", error, error_len);
  if (ordinal < 0 || ordinal >= count) {
    std::snprintf(error, error_len, "CUDA device %d not present (%d devices)", ordinal, count);
    return 1;
  }
  rc = cudaSetDevice(ordinal);
  if (rc != cudaSuccess) return fail(1, rc, "cudaSetDevice", error, error_len);

  const int n = static_cast<int>(elements);
  const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
  std::vector<float> x(n), y(n), host(n), seed(n);
  for (int i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 1024) * 0.5f;
    y[i] = static_cast<float>(i % 17);
    seed[i] = static_cast<float>(i % 100) / 100.0f;
  }
  DeviceBuffers buf;
  if ((rc = cudaMalloc(&buf.x, bytes)) != cudaSuccess ||
      (rc = cudaMalloc(&buf.y, bytes)) != cudaSuccess ||
      (rc = cudaMalloc(&buf.out, bytes)) != cudaSuccess) {
    return fail(2, rc, "cudaMalloc", error, error_len);
  }
  if ((rc = cudaMemcpy(buf.x, x.data(), bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (rc = cudaMemcpy(buf.y, y.data(), bytes, cudaMemcpyHostToDevice)) != cudaSuccess) {
    return fail(2, rc, "cudaMemcpy", error, error_len);
  }
  const int threads = 256;
  const int blocks = (n + threads - 1) / threads;
  const float a = 2.0f;
  double best = 0;
  for (int it = 0; it <= iterations; ++it) {  // the first run warms up and is not counted
    auto start = std::chrono::steady_clock::now();
    saxpyKernel<<<blocks, threads>>>(a, buf.x, buf.y, buf.out, n);
    rc = cudaDeviceSynchronize();
    if (rc == cudaSuccess) rc = cudaGetLastError();
    if (rc != cudaSuccess) return fail(2, rc, "saxpy", error, error_len);
    double ms = millisSince(start);
    if (it > 0 && (best == 0 || ms < best)) best = ms;
  }
  out->saxpy_millis = best;
  rc = cudaMemcpy(host.data(), buf.out, bytes, cudaMemcpyDeviceToHost);
  if (rc != cudaSuccess) return fail(2, rc, "cudaMemcpy", error, error_len);
  for (int i = 0; i < n; ++i) {
    if (std::fabs(host[i] - (a * x[i] + y[i])) > 1e-3f) {
      std::snprintf(error, error_len, "saxpy result wrong at element %d", i);
      return 3;
    }
  }

  best = 0;
  for (int it = 0; it <= iterations; ++it) {
    rc = cudaMemcpy(buf.out, seed.data(), bytes, cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) return fail(2, rc, "cudaMemcpy", error, error_len);
    auto start = std::chrono::steady_clock::now();
    fmaChainKernel<<<blocks, threads>>>(buf.out, fma_rounds, n);
    rc = cudaDeviceSynchronize();
    if (rc == cudaSuccess) rc = cudaGetLastError();
    if (rc != cudaSuccess) return fail(2, rc, "fma_chain", error, error_len);
    double ms = millisSince(start);
    if (it > 0 && (best == 0 || ms < best)) best = ms;
  }
  out->fma_millis = best;
  rc = cudaMemcpy(host.data(), buf.out, bytes, cudaMemcpyDeviceToHost);
  if (rc != cudaSuccess) return fail(2, rc, "cudaMemcpy", error, error_len);
  const double decay = std::pow(0.999, fma_rounds);
  for (int i = 0; i < n; ++i) {
    double v = seed[i];
    double expected = (1 + (v - 1) * decay) + (1 + (-v) * decay);
    if (std::fabs(host[i] - expected) >
        1e-3 * (std::fabs(expected) > 1 ? std::fabs(expected) : 1)) {
      std::snprintf(error, error_len, "fma_chain result wrong at element %d", i);
      return 3;
    }
  }
  out->verified = true;
  return 0;
}

}  // namespace dcloud::cuda_detail
