#pragma once
// JSON views of devices and benchmark results, for dcloud-gpu-info and the worker's offer.

#include <vector>

#include "common/json.h"
#include "gpu/benchmark.h"
#include "gpu/gpu_device.h"

namespace dcloud {

// {"api","name","vendor","memory_bytes","compute_units","is_gpu","device_node","index"}
JsonObject gpuDeviceToJson(const GpuDevice& device);
JsonArray gpuDevicesToJson(const std::vector<GpuDevice>& devices);
// {"api","device_name","gbytes_per_s","gflops","saxpy_millis","fma_millis","elements","verified"}
JsonObject gpuBenchmarkToJson(const GpuBenchmark& bench);

}  // namespace dcloud
