// dcloud-gpu-info: prints the devices this machine offers as JSON; --bench also benchmarks each.
//   dcloud-gpu-info [--bench] [--elements N]

#include <iostream>

#include "common/args.h"
#include "gpu/benchmark.h"
#include "gpu/gpu_json.h"

int main(int argc, char** argv) {
  auto args = dcloud::Args::parse(argc, argv, {"bench", "help"});
  if (!args.ok()) {
    std::cerr << args.error().toString() << "\n";
    return 2;
  }
  if (auto known = args->requireKnown({"bench", "help", "elements"}); !known.ok()) {
    std::cerr << known.error().toString() << "\n";
    return 2;
  }
  if (args->has("help")) {
    std::cout << "usage: dcloud-gpu-info [--bench] [--elements N]\n";
    return 0;
  }
  auto elements = args->getInt("elements", 1 << 20);
  if (!elements.ok()) {
    std::cerr << elements.error().toString() << "\n";
    return 2;
  }
  dcloud::JsonObject out = new Poco::JSON::Object;
  auto cuda = dcloud::listCudaDevices();
  auto opencl = dcloud::listOpenClDevices();
  out->set("cuda_error", cuda.ok() ? std::string() : cuda.error().message);
  out->set("opencl_error", opencl.ok() ? std::string() : opencl.error().message);
  std::vector<dcloud::GpuDevice> devices = dcloud::listAllDevices();
  out->set("devices", dcloud::gpuDevicesToJson(devices));
  if (args->has("bench")) {
    dcloud::GpuBenchmarkOptions options;
    options.elements = *elements;
    dcloud::JsonArray benches = new Poco::JSON::Array;
    for (const auto& device : devices) {
      auto bench = device.api == "cuda" ? dcloud::benchmarkCuda(device, options)
                                        : dcloud::benchmarkOpenCl(device, options);
      dcloud::JsonObject entry = bench.ok() ? dcloud::gpuBenchmarkToJson(*bench)
                                            : dcloud::JsonObject(new Poco::JSON::Object);
      if (!bench.ok()) {
        entry->set("api", device.api);
        entry->set("device_name", device.name);
        entry->set("error", bench.error().toString());
      }
      benches->add(entry);
    }
    out->set("benchmarks", benches);
  }
  std::cout << dcloud::toJson(out) << "\n";
  return 0;
}
