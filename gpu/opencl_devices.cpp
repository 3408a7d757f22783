// OpenCL discovery and benchmark through the ICD loader (C API: no exceptions to catch).

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/benchmark.h"
#include "gpu/gpu_device.h"

namespace dcloud {
namespace {

std::string clError(const char* what, cl_int code) {
  return std::string(what) + " failed (OpenCL error " + std::to_string(code) + ")";
}

std::string deviceString(cl_device_id device, cl_device_info param) {
  std::size_t size = 0;
  if (clGetDeviceInfo(device, param, 0, nullptr, &size) != CL_SUCCESS || size == 0) return "";
  std::string value(size, '\0');
  if (clGetDeviceInfo(device, param, size, value.data(), nullptr) != CL_SUCCESS) return "";
  while (!value.empty() && (value.back() == '\0' || value.back() == ' ')) value.pop_back();
  return value;
}

// All devices of all platforms in a stable order (platform order, then device order).
Result<std::vector<cl_device_id>> allClDevices() {
  cl_uint platform_count = 0;
  cl_int rc = clGetPlatformIDs(0, nullptr, &platform_count);
  // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no platform is installed.
  if (rc != CL_SUCCESS) return unavailable(clError("clGetPlatformIDs", rc) + ": no platform?");
  if (platform_count == 0) return unavailable("no OpenCL platform installed");
  std::vector<cl_platform_id> platforms(platform_count);
  rc = clGetPlatformIDs(platform_count, platforms.data(), nullptr);
  if (rc != CL_SUCCESS) return unavailable(clError("clGetPlatformIDs", rc));
  std::vector<cl_device_id> devices;
  for (cl_platform_id platform : platforms) {
    cl_uint count = 0;
    rc = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &count);
    if (rc != CL_SUCCESS || count == 0) continue;  // a platform without devices is not an error
    std::vector<cl_device_id> ids(count);
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr) != CL_SUCCESS) {
      continue;
    }
    devices.insert(devices.end(), ids.begin(), ids.end());
  }
  return devices;
}

GpuDevice describe(cl_device_id id, int index) {
  GpuDevice d;
  d.api = "opencl";
  d.index = index;
  d.name = deviceString(id, CL_DEVICE_NAME);
  d.vendor = deviceString(id, CL_DEVICE_VENDOR);
  cl_ulong memory = 0;
  if (clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(memory), &memory, nullptr) ==
      CL_SUCCESS) {
    d.memory_bytes = static_cast<std::int64_t>(memory);
  }
  cl_uint units = 0;
  if (clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(units), &units, nullptr) ==
      CL_SUCCESS) {
    d.compute_units = static_cast<int>(units);
  }
  cl_device_type type = 0;
  if (clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof(type), &type, nullptr) == CL_SUCCESS) {
    d.is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  }
  return d;
}

// Releases OpenCL objects on every exit path.
struct ClResources {
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_program program = nullptr;
  std::vector<cl_kernel> kernels;
  std::vector<cl_mem> buffers;
  ~ClResources() {
    for (cl_mem m : buffers) clReleaseMemObject(m);
    for (cl_kernel k : kernels) clReleaseKernel(k);
    if (program) clReleaseProgram(program);
    if (queue) clReleaseCommandQueue(queue);
    if (context) clReleaseContext(context);
  }
};

std::string buildLog(cl_program program, cl_device_id device) {
  std::size_t size = 0;
  clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
  std::string log(size, '\0');
  if (size > 0) {
    clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
  }
  return log.substr(0, 2000);
}

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

cl_mem makeBuffer(ClResources& res, cl_mem_flags flags, std::size_t bytes, void* host, cl_int* rc) {
  cl_mem m = clCreateBuffer(res.context, flags, bytes, host, rc);
  if (m) res.buffers.push_back(m);
  return m;
}

}  // namespace

Result<std::vector<GpuDevice>> listOpenClDevices() {
  auto ids = allClDevices();
  if (!ids.ok()) return ids.error();
  std::vector<GpuDevice> devices;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    devices.push_back(describe((*ids)[i], static_cast<int>(i)));
  }
  return devices;
}

Result<GpuBenchmark> benchmarkOpenCl(const GpuDevice& device, const GpuBenchmarkOptions& options) {
  if (device.api != "opencl") return invalidArgument("not an OpenCL device: " + device.api);
  if (options.elements <= 0 || options.elements > (1LL << 28) || options.iterations <= 0 ||
      options.fma_rounds <= 0) {
    return invalidArgument("benchmark options out of range");
  }
  auto ids = allClDevices();
  if (!ids.ok()) return ids.error();
  if (device.index < 0 || static_cast<std::size_t>(device.index) >= ids->size()) {
    return notFound("OpenCL device " + std::to_string(device.index) + " not found");
  }
  cl_device_id id = (*ids)[static_cast<std::size_t>(device.index)];
  if (deviceString(id, CL_DEVICE_NAME) != device.name) {
    return notFound("OpenCL device " + std::to_string(device.index) + " is no longer " +
                    device.name);
  }

  ClResources res;
  cl_int rc = CL_SUCCESS;
  res.context = clCreateContext(nullptr, 1, &id, nullptr, nullptr, &rc);
  if (!res.context) return unavailable(clError("clCreateContext", rc));
  res.queue = clCreateCommandQueue(res.context, id, 0, &rc);
  if (!res.queue) return unavailable(clError("clCreateCommandQueue", rc));
  const char* source = openClKernelSource();
  res.program = clCreateProgramWithSource(res.context, 1, &source, nullptr, &rc);
  if (!res.program) return unavailable(clError("clCreateProgramWithSource", rc));
  rc = clBuildProgram(res.program, 1, &id, "", nullptr, nullptr);
  if (rc != CL_SUCCESS) {
    return unavailable(clError("clBuildProgram", rc) + ": " + buildLog(res.program, id));
  }
  cl_kernel saxpy = clCreateKernel(res.program, "saxpy", &rc);
  if (!saxpy) return unavailable(clError("clCreateKernel(saxpy)", rc));
  res.kernels.push_back(saxpy);
  cl_kernel fma = clCreateKernel(res.program, "fma_chain", &rc);
  if (!fma) return unavailable(clError("clCreateKernel(fma_chain)", rc));
  res.kernels.push_back(fma);

  const auto n = static_cast<std::size_t>(options.elements);
  const cl_int n_arg = static_cast<cl_int>(n);
  std::vector<float> x(n), y(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 1024) * 0.5f;
    y[i] = static_cast<float>(i % 17);
  }
  const std::size_t bytes = n * sizeof(float);
  cl_mem bx = makeBuffer(res, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, x.data(), &rc);
  cl_mem by =
      bx ? makeBuffer(res, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, y.data(), &rc) : nullptr;
  cl_mem bo = by ? makeBuffer(res, CL_MEM_READ_WRITE, bytes, nullptr, &rc) : nullptr;
  if (!bo) return unavailable(clError("clCreateBuffer", rc));

  const cl_float a = 2.0f;
  rc = clSetKernelArg(saxpy, 0, sizeof(a), &a);
  rc |= clSetKernelArg(saxpy, 1, sizeof(cl_mem), &bx);
  rc |= clSetKernelArg(saxpy, 2, sizeof(cl_mem), &by);
  rc |= clSetKernelArg(saxpy, 3, sizeof(cl_mem), &bo);
  rc |= clSetKernelArg(saxpy, 4, sizeof(n_arg), &n_arg);
  if (rc != CL_SUCCESS) return unavailable(clError("clSetKernelArg(saxpy)", rc));

  GpuBenchmark result;
  result.api = "opencl";
  result.device_name = device.name;
  result.elements = options.elements;
  // One untimed run first: it includes lazy compilation and first-touch costs.
  double best = 0;
  for (int it = 0; it <= options.iterations; ++it) {
    auto start = std::chrono::steady_clock::now();
    rc = clEnqueueNDRangeKernel(res.queue, saxpy, 1, nullptr, &n, nullptr, 0, nullptr, nullptr);
    if (rc == CL_SUCCESS) rc = clFinish(res.queue);
    if (rc != CL_SUCCESS) return unavailable(clError("saxpy run", rc));
    double ms = millisSince(start);
    if (it > 0 && (best == 0 || ms < best)) best = ms;
  }
  rc = clEnqueueReadBuffer(res.queue, bo, CL_TRUE, 0, bytes, out.data(), 0, nullptr, nullptr);
  if (rc != CL_SUCCESS) return unavailable(clError("clEnqueueReadBuffer", rc));
  for (std::size_t i = 0; i < n; ++i) {
    if (std::fabs(out[i] - (a * x[i] + y[i])) > 1e-3f) {
      return internalError("saxpy result wrong at element " + std::to_string(i));
    }
  }
  result.saxpy_millis = best;
  result.gbytes_per_s = best > 0 ? 12.0 * static_cast<double>(n) / (best * 1e6) : 0;

  // The FMA chain reuses the output buffer: seed it, run once per iteration, check the last.
  std::vector<float> seed(n);
  for (std::size_t i = 0; i < n; ++i) seed[i] = static_cast<float>(i % 100) / 100.0f;
  const cl_int rounds = options.fma_rounds;
  rc = clSetKernelArg(fma, 0, sizeof(cl_mem), &bo);
  rc |= clSetKernelArg(fma, 1, sizeof(rounds), &rounds);
  rc |= clSetKernelArg(fma, 2, sizeof(n_arg), &n_arg);
  if (rc != CL_SUCCESS) return unavailable(clError("clSetKernelArg(fma_chain)", rc));
  best = 0;
  for (int it = 0; it <= options.iterations; ++it) {
    rc = clEnqueueWriteBuffer(res.queue, bo, CL_TRUE, 0, bytes, seed.data(), 0, nullptr, nullptr);
    if (rc != CL_SUCCESS) return unavailable(clError("clEnqueueWriteBuffer", rc));
    auto start = std::chrono::steady_clock::now();
    rc = clEnqueueNDRangeKernel(res.queue, fma, 1, nullptr, &n, nullptr, 0, nullptr, nullptr);
    if (rc == CL_SUCCESS) rc = clFinish(res.queue);
    if (rc != CL_SUCCESS) return unavailable(clError("fma_chain run", rc));
    double ms = millisSince(start);
    if (it > 0 && (best == 0 || ms < best)) best = ms;
  }
  rc = clEnqueueReadBuffer(res.queue, bo, CL_TRUE, 0, bytes, out.data(), 0, nullptr, nullptr);
  if (rc != CL_SUCCESS) return unavailable(clError("clEnqueueReadBuffer", rc));
  const double decay = std::pow(0.999, options.fma_rounds);
  for (std::size_t i = 0; i < n; ++i) {
    double v = seed[i];
    double expected = (1 + (v - 1) * decay) + (1 + (1 - v - 1) * decay);
    if (std::fabs(out[i] - expected) > 1e-3 * std::max(1.0, std::fabs(expected))) {
      return internalError("fma_chain result wrong at element " + std::to_string(i));
    }
  }
  result.fma_millis = best;
  result.gflops = best > 0 ? 4.0 * options.fma_rounds * static_cast<double>(n) / (best * 1e6) : 0;
  result.verified = true;
  return result;
}

}  // namespace dcloud
