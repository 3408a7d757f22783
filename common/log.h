#pragma once
// One line per event on stderr: "2026-11-21T06:44:51.123Z INFO scheduler request ...".
// Thread-safe; lines never interleave.

#include <string>
#include <string_view>

namespace dcloud {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}
  void debug(std::string_view msg) const { write(LogLevel::kDebug, msg); }
  void info(std::string_view msg) const { write(LogLevel::kInfo, msg); }
  void warn(std::string_view msg) const { write(LogLevel::kWarn, msg); }
  void error(std::string_view msg) const { write(LogLevel::kError, msg); }
  void write(LogLevel level, std::string_view msg) const;
  const std::string& component() const { return component_; }

  static void setMinimumLevel(LogLevel level);

 private:
  std::string component_;
};

}  // namespace dcloud
