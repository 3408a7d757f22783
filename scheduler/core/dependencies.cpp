#include "scheduler/core/dependencies.h"

#include <utility>

namespace dcloud::core {

std::vector<std::string> findDependencyCycle(const DependencyGraph& graph) {
  enum class Mark { kNew, kOnPath, kDone };
  std::map<std::string, Mark> mark;
  static const std::vector<std::string> kNone;
  auto edges = [&](const std::string& job) -> const std::vector<std::string>& {
    auto it = graph.find(job);
    return it == graph.end() ? kNone : it->second;
  };
  for (const auto& [start, unused] : graph) {
    if (mark[start] != Mark::kNew) continue;
    // Depth-first with an explicit stack of (job, next edge to follow).
    std::vector<std::pair<std::string, std::size_t>> path{{start, 0}};
    mark[start] = Mark::kOnPath;
    while (!path.empty()) {
      auto& [job, next] = path.back();
      const auto& out = edges(job);
      if (next == out.size()) {
        mark[job] = Mark::kDone;
        path.pop_back();
        continue;
      }
      const std::string target = out[next++];
      Mark& m = mark[target];
      if (m == Mark::kOnPath) {
        std::vector<std::string> cycle;
        std::size_t from = 0;
        while (path[from].first != target) ++from;
        for (std::size_t i = from; i < path.size(); ++i) cycle.push_back(path[i].first);
        cycle.push_back(target);
        return cycle;
      }
      if (m == Mark::kNew) {
        m = Mark::kOnPath;
        path.emplace_back(target, 0);
      }
    }
  }
  return {};
}

std::string describeCycle(const std::vector<std::string>& cycle) {
  std::string out;
  for (const auto& job : cycle) out += (out.empty() ? "" : " -> ") + job;
  return out;
}

}  // namespace dcloud::core
