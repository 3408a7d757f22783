#pragma once
// GPU (and OpenCL CPU) device discovery. The OpenCL side goes through the ICD loader, so any
// installed platform (pocl on CI, NVIDIA, ROCm) shows up; the CUDA side loads libcuda.so.1 at run
// time, so binaries run on machines without a driver and report CUDA as Unavailable.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud {

struct GpuDevice {
  std::string api;  // "opencl" or "cuda"
  std::string name;
  std::string vendor;
  std::int64_t memory_bytes = 0;
  int compute_units = 0;    // OpenCL compute units or CUDA multiprocessors
  bool is_gpu = false;      // false for CPU OpenCL devices such as pocl's
  std::string device_node;  // e.g. /dev/nvidia0; empty when unknown or not a device file
  int index = 0;            // position within its api (OpenCL: across platforms, in order)
};

// Every OpenCL device of every platform. Unavailable when no platform is installed.
Result<std::vector<GpuDevice>> listOpenClDevices();
// Every CUDA device. Unavailable when libcuda.so.1 is missing or the driver cannot initialise.
Result<std::vector<GpuDevice>> listCudaDevices();
// CUDA devices followed by OpenCL devices; an API that fails contributes nothing. Never fails.
std::vector<GpuDevice> listAllDevices();

// Device nodes a CUDA process needs besides /dev/nvidiaN (nvidiactl, nvidia-uvm, ...), those
// that exist on this host. Bind them into a sandbox together with the allocated devices.
std::vector<std::string> cudaSupportDeviceNodes();

}  // namespace dcloud
