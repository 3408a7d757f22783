// CUDA discovery through the driver API, loaded with dlopen so that nothing links libcuda: a
// binary built here must start on machines with no NVIDIA driver (see ENV.md section 7).

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/gpu_device.h"

namespace dcloud {
namespace {

using CuResult = int;
using CuDevice = int;
constexpr int kAttrMultiprocessorCount = 16;  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT

struct CudaDriver {
  CuResult (*init)(unsigned) = nullptr;
  CuResult (*getCount)(int*) = nullptr;
  CuResult (*get)(CuDevice*, int) = nullptr;
  CuResult (*getName)(char*, int, CuDevice) = nullptr;
  CuResult (*totalMem)(std::size_t*, CuDevice) = nullptr;
  CuResult (*getAttribute)(int*, int, CuDevice) = nullptr;
  CuResult (*getPciBusId)(char*, int, CuDevice) = nullptr;
  CuResult (*errorString)(CuResult, const char**) = nullptr;
  std::string load_error;  // empty when loaded and initialised
};

template <typename F>
bool bind(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

std::string describeError(const CudaDriver& d, CuResult rc) {
  const char* text = nullptr;
  if (d.errorString && d.errorString(rc, &text) == 0 && text) {
    return std::string(text) + " (" + std::to_string(rc) + ")";
  }
  return "CUDA error " + std::to_string(rc);
}

// Loaded once and never unloaded: the driver does not support dlclose while contexts may exist.
const CudaDriver& driver() {
  static CudaDriver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = dlerror();
      d.load_error = std::string("CUDA driver unavailable: ") + (why ? why : "libcuda.so.1");
      return;
    }
    bool ok = bind(lib, "cuInit", d.init) && bind(lib, "cuDeviceGetCount", d.getCount) &&
              bind(lib, "cuDeviceGet", d.get) && bind(lib, "cuDeviceGetName", d.getName) &&
              bind(lib, "cuDeviceTotalMem_v2", d.totalMem) &&
              bind(lib, "cuDeviceGetAttribute", d.getAttribute) &&
              bind(lib, "cuGetErrorString", d.errorString);
    bind(lib, "cuDeviceGetPCIBusId", d.getPciBusId);  // optional: only for the device node
    if (!ok) {
      d.load_error = "CUDA driver unavailable: libcuda.so.1 lacks a required symbol";
      return;
    }
    CuResult rc = d.init(0);
    if (rc != 0) d.load_error = "CUDA driver unavailable: cuInit: " + describeError(d, rc);
  });
  return d;
}

// /dev/nvidiaN uses the kernel's minor number, which need not equal the CUDA ordinal; the driver
// publishes it per PCI device.
std::string deviceNodeFor(const CudaDriver& d, CuDevice dev, int ordinal) {
  std::string fallback = "/dev/nvidia" + std::to_string(ordinal);
  if (!d.getPciBusId) return fallback;
  char bus[64] = {};
  if (d.getPciBusId(bus, sizeof(bus), dev) != 0) return fallback;
  std::string id(bus);
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::ifstream info("/proc/driver/nvidia/gpus/" + id + "/information");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("Device Minor:", 0) == 0) {
      std::string minor = line.substr(13);
      minor.erase(0, minor.find_first_not_of(" \t"));
      if (!minor.empty() && std::all_of(minor.begin(), minor.end(), ::isdigit)) {
        return "/dev/nvidia" + minor;
      }
    }
  }
  return fallback;
}

}  // namespace

Result<std::vector<GpuDevice>> listCudaDevices() {
  const CudaDriver& d = driver();
  if (!d.load_error.empty()) return unavailable(d.load_error);
  int count = 0;
  CuResult rc = d.getCount(&count);
  if (rc != 0) return unavailable("cuDeviceGetCount: " + describeError(d, rc));
  std::vector<GpuDevice> devices;
  for (int i = 0; i < count; ++i) {
    CuDevice dev = 0;
    if (d.get(&dev, i) != 0) continue;
    GpuDevice g;
    g.api = "cuda";
    g.vendor = "NVIDIA Corporation";
    g.is_gpu = true;
    g.index = i;
    char name[256] = {};
    if (d.getName(name, sizeof(name), dev) == 0) g.name = name;
    std::size_t memory = 0;
    if (d.totalMem(&memory, dev) == 0) g.memory_bytes = static_cast<std::int64_t>(memory);
    int sms = 0;
    if (d.getAttribute(&sms, kAttrMultiprocessorCount, dev) == 0) g.compute_units = sms;
    g.device_node = deviceNodeFor(d, dev, i);
    devices.push_back(std::move(g));
  }
  return devices;
}

std::vector<std::string> cudaSupportDeviceNodes() {
  std::vector<std::string> nodes;
  for (const char* path :
       {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"}) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) nodes.emplace_back(path);
  }
  return nodes;
}

}  // namespace dcloud
