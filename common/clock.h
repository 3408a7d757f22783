#pragma once
// Time is injected: services take a Clock&, tests use ManualClock and never sleep to wait.

#include <atomic>
#include <cstdint>

namespace dcloud {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual std::int64_t nowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t nowMillis() const override;
  static SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_millis = 1'800'000'000'000) : now_(start_millis) {}
  std::int64_t nowMillis() const override { return now_.load(); }
  void advanceMillis(std::int64_t delta) { now_ += delta; }
  void setMillis(std::int64_t t) { now_ = t; }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace dcloud
