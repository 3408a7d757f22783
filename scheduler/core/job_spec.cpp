#include "scheduler/core/job_spec.h"

namespace dcloud::core {

const char* jobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kRender: return "render";
    case JobKind::kCommand: return "command";
  }
  return "unknown";
}

Result<JobKind> parseJobKind(const std::string& name) {
  if (name == "render") return JobKind::kRender;
  if (name == "command") return JobKind::kCommand;
  return invalidArgument("unknown job kind '" + name + "' (expected render or command)");
}

Status validateJobSpec(const JobSpec& spec, const SpecLimits& limits) {
  if (spec.name.size() > 200) return invalidArgument("name is longer than 200 characters");
  const Resources& r = spec.resources;
  if (r.cores < 1 || r.cores > limits.max_cores) {
    return invalidArgument("cores must be between 1 and " + std::to_string(limits.max_cores));
  }
  if (r.memory_mb < 16 || r.memory_mb > limits.max_memory_mb) {
    return invalidArgument("memory_mb must be between 16 and " +
                           std::to_string(limits.max_memory_mb));
  }
  if (r.gpus < 0 || r.gpus > limits.max_gpus) {
    return invalidArgument("gpus must be between 0 and " + std::to_string(limits.max_gpus));
  }
  if (r.disk_mb < 0) return invalidArgument("disk_mb must not be negative");
  if (spec.max_price <= 0) return invalidArgument("max_price must be positive");
  if (spec.max_price > limits.max_price) return invalidArgument("max_price is absurdly high");
  if (spec.min_reputation < 0) return invalidArgument("min_reputation must not be negative");
  if (spec.timeout_seconds < 1 || spec.timeout_seconds > limits.max_timeout_seconds) {
    return invalidArgument("timeout_seconds must be between 1 and " +
                           std::to_string(limits.max_timeout_seconds));
  }
  if (spec.max_attempts < 1 || spec.max_attempts > limits.max_attempts) {
    return invalidArgument("max_attempts must be between 1 and " +
                           std::to_string(limits.max_attempts));
  }
  switch (spec.kind) {
    case JobKind::kRender: {
      if (spec.scene.rfind("s3://", 0) != 0) {
        return invalidArgument("scene must be an s3:// URL");
      }
      if (!spec.command.empty()) return invalidArgument("render jobs take no command");
      if (spec.frame_first < 0 || spec.frame_last < 0) {
        return invalidArgument("frames must not be negative");
      }
      if (spec.frame_last > limits.max_frame_number) {
        return invalidArgument("frame numbers must be at most " +
                               std::to_string(limits.max_frame_number));
      }
      if (spec.frame_first > spec.frame_last) {
        return invalidArgument("frame range " + std::to_string(spec.frame_first) + "-" +
                               std::to_string(spec.frame_last) + " is empty (first > last)");
      }
      const long long frames = 1LL + spec.frame_last - spec.frame_first;
      if (frames > limits.max_frames) {
        return invalidArgument("at most " + std::to_string(limits.max_frames) + " frames per job");
      }
      if (spec.chunk < 1) return invalidArgument("chunk must be at least 1");
      const long long tasks = (frames + spec.chunk - 1) / spec.chunk;
      if (tasks > limits.max_tasks) {
        return invalidArgument("at most " + std::to_string(limits.max_tasks) +
                               " tasks per job; raise --chunk");
      }
      break;
    }
    case JobKind::kCommand: {
      if (spec.command.empty()) return invalidArgument("command jobs need a command");
      if (static_cast<int>(spec.command.size()) > limits.max_command_args) {
        return invalidArgument("command has too many arguments");
      }
      std::size_t bytes = 0;
      for (const auto& a : spec.command) {
        if (a.find('\0') != std::string::npos) return invalidArgument("command contains NUL");
        bytes += a.size();
      }
      if (bytes > limits.max_command_bytes) return invalidArgument("command is too long");
      if (spec.command.front().empty()) return invalidArgument("command program is empty");
      if (!spec.scene.empty()) return invalidArgument("command jobs take no scene");
      break;
    }
  }
  return okStatus();
}

std::vector<TaskPlan> planTasks(const JobSpec& spec) {
  std::vector<TaskPlan> out;
  if (spec.kind == JobKind::kCommand) {
    out.push_back({0, 0, 0});
    return out;
  }
  int index = 0;
  for (long long f = spec.frame_first; f <= spec.frame_last; f += spec.chunk) {
    const long long last = std::min<long long>(f + spec.chunk - 1, spec.frame_last);
    out.push_back({index++, static_cast<int>(f), static_cast<int>(last)});
  }
  return out;
}

namespace {
__extension__ typedef __int128 Int128;
// ceil(a * b / c) without overflow for the magnitudes we allow (validated specs).
Micros mulDivCeil(Micros a, std::int64_t b, std::int64_t c) {
  const Int128 p = static_cast<Int128>(a) * b;
  return static_cast<Micros>((p + c - 1) / c);
}
}  // namespace

Micros maxTaskCost(const JobSpec& spec) {
  return mulDivCeil(spec.max_price, spec.timeout_seconds, 3600);
}

Micros attemptCost(Micros hourly_price, std::int64_t wall_millis) {
  if (hourly_price <= 0 || wall_millis <= 0) return 0;
  return mulDivCeil(hourly_price, wall_millis, 3'600'000);
}

}  // namespace dcloud::core
