#include "common/clock.h"

#include <chrono>

namespace dcloud {

std::int64_t SystemClock::nowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace dcloud
