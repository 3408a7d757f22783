#pragma once
// Process plumbing shared by the service mains.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dcloud {

// Blocks SIGTERM and SIGINT in this thread and every thread started after it; call first in main.
void blockTerminationSignals();
// Waits until SIGTERM or SIGINT arrives; returns the signal number.
int waitForTerminationSignal();
// Writes the port to path atomically (write to path.tmp, rename), for scripts that start a
// service on port 0 and need to know where it listens.
Status writePortFile(const std::string& path, std::uint16_t port);
// Reads a whole file; NotFound / Internal on failure.
Result<std::string> readFile(const std::string& path);

}  // namespace dcloud
