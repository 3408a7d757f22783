#pragma once
// What a provider machine offers: cores, memory, scratch disk and GPUs, for the worker's offer.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "gpu/gpu_device.h"

namespace dcloud {

struct HardwareReport {
  int cores = 0;                     // CPUs this process may run on (affinity, cgroup quota)
  std::int64_t memory_bytes = 0;     // MemTotal, or the cgroup memory limit when lower
  std::int64_t disk_free_bytes = 0;  // free space for non-root users in scratch_dir
  std::string hostname;
  std::vector<GpuDevice> gpus;  // CUDA devices, then OpenCL devices that are GPUs
  std::string cpu_model;        // "model name" from /proc/cpuinfo; may be empty
};

// InvalidArgument when scratch_dir cannot be examined; Internal when /proc is unreadable.
Result<HardwareReport> detectHardware(const std::string& scratch_dir);

}  // namespace dcloud
