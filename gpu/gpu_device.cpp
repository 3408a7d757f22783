#include <utility>

#include "gpu/gpu_device.h"
#include "gpu/gpu_json.h"

namespace dcloud {

std::vector<GpuDevice> listAllDevices() {
  std::vector<GpuDevice> all;
  if (auto cuda = listCudaDevices(); cuda.ok()) all = std::move(*cuda);
  if (auto cl = listOpenClDevices(); cl.ok()) all.insert(all.end(), cl->begin(), cl->end());
  return all;
}

JsonObject gpuDeviceToJson(const GpuDevice& device) {
  JsonObject obj = new Poco::JSON::Object;
  obj->set("api", device.api);
  obj->set("name", device.name);
  obj->set("vendor", device.vendor);
  obj->set("memory_bytes", device.memory_bytes);
  obj->set("compute_units", device.compute_units);
  obj->set("is_gpu", device.is_gpu);
  obj->set("device_node", device.device_node);
  obj->set("index", device.index);
  return obj;
}

JsonArray gpuDevicesToJson(const std::vector<GpuDevice>& devices) {
  JsonArray arr = new Poco::JSON::Array;
  for (const GpuDevice& d : devices) arr->add(gpuDeviceToJson(d));
  return arr;
}

JsonObject gpuBenchmarkToJson(const GpuBenchmark& bench) {
  JsonObject obj = new Poco::JSON::Object;
  obj->set("api", bench.api);
  obj->set("device_name", bench.device_name);
  obj->set("gbytes_per_s", bench.gbytes_per_s);
  obj->set("gflops", bench.gflops);
  obj->set("saxpy_millis", bench.saxpy_millis);
  obj->set("fma_millis", bench.fma_millis);
  obj->set("elements", bench.elements);
  obj->set("verified", bench.verified);
  return obj;
}

}  // namespace dcloud
