#pragma once
// Dependencies between jobs: cycle detection over a dependency graph. Pure: no I/O.

#include <map>
#include <string>
#include <vector>

namespace dcloud::core {

// job -> the jobs it waits for. Jobs named only as targets have no edges of their own.
using DependencyGraph = std::map<std::string, std::vector<std::string>>;

// A cycle as the jobs along it, first repeated at the end (e.g. {a, b, a}; a self-dependency is
// {a, a}), or empty when the graph has none. Deterministic: the search starts at the smallest id
// and follows edges in their order. Iterative, so deep chains cannot overflow the stack.
std::vector<std::string> findDependencyCycle(const DependencyGraph& graph);

// "a -> b -> a", for error messages.
std::string describeCycle(const std::vector<std::string>& cycle);

}  // namespace dcloud::core
