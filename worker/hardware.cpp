#include "worker/hardware.h"

#include <sched.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "worker/cgroups.h"

namespace dcloud {
namespace {

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.pop_back();
  return s;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = trim(line.substr(0, colon));
    if (key == "model name" || key == "Model" || key == "cpu model") {
      return trim(line.substr(colon + 1));
    }
  }
  return "";
}

std::int64_t memTotalBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

int cpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cores = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  // A CPU quota below the affinity set is what the tasks will really get.
  if (auto quota = ownCgroupCpuLimit(); quota && *quota > 0) {
    cores = std::min(cores, std::max(1, static_cast<int>(std::ceil(*quota))));
  }
  return std::max(cores, 1);
}

}  // namespace

Result<HardwareReport> detectHardware(const std::string& scratch_dir) {
  HardwareReport report;
  report.cores = cpuCount();
  report.memory_bytes = memTotalBytes();
  if (report.memory_bytes <= 0) return internalError("cannot read MemTotal from /proc/meminfo");
  if (auto limit = ownCgroupMemoryLimit(); limit && *limit < report.memory_bytes) {
    report.memory_bytes = *limit;
  }
  struct statvfs fs {};
  if (::statvfs(scratch_dir.c_str(), &fs) != 0) {
    return invalidArgument("statvfs " + scratch_dir + ": " + std::strerror(errno));
  }
  report.disk_free_bytes =
      static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) report.hostname = host;
  report.cpu_model = cpuModel();
  if (auto cuda = listCudaDevices(); cuda.ok()) report.gpus = std::move(*cuda);
  if (auto cl = listOpenClDevices(); cl.ok()) {
    for (GpuDevice& d : *cl) {
      if (d.is_gpu) report.gpus.push_back(std::move(d));
    }
  }
  return report;
}

}  // namespace dcloud
