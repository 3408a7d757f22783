#include "scheduler/core/job_spec.h"

#include <algorithm>
#include <limits>

namespace dcloud::core {

const char* jobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kRender: return "render";
    case JobKind::kCommand: return "command";
    case JobKind::kTrain: return "train";
    case JobKind::kBackup: return "backup";
  }
  return "unknown";
}

Result<JobKind> parseJobKind(const std::string& name) {
  if (name == "render") return JobKind::kRender;
  if (name == "command") return JobKind::kCommand;
  if (name == "train") return JobKind::kTrain;
  if (name == "backup") return JobKind::kBackup;
  return invalidArgument("unknown job kind '" + name +
                         "' (expected render, command, train or backup)");
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
    case JobKind::kCommand:
    case JobKind::kTrain: {
      if (spec.command.empty()) {
        return invalidArgument(std::string(jobKindName(spec.kind)) + " jobs need a command");
      }
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
      if (!spec.scene.empty()) {
        return invalidArgument(std::string(jobKindName(spec.kind)) + " jobs take no scene");
      }
      if (spec.kind == JobKind::kTrain) {
        if (r.gpus < 1) return invalidArgument("train jobs need at least one GPU (resources.gpus)");
        if (!spec.checkpoint_prefix.empty() && spec.checkpoint_prefix.rfind("s3://", 0) != 0) {
          return invalidArgument("checkpoint_prefix must be an s3:// URL");
        }
      }
      break;
    }
    case JobKind::kBackup: {
      if (!spec.command.empty() || !spec.scene.empty()) {
        return invalidArgument("backup jobs take no command and no scene");
      }
      if (r.gpus != 0) return invalidArgument("backup jobs take no GPUs");
      if (spec.capacity_gb < 1 || spec.capacity_gb > limits.max_capacity_gb) {
        return invalidArgument("capacity_gb must be between 1 and " +
                               std::to_string(limits.max_capacity_gb));
      }
      if (spec.replicas < 1 || spec.replicas > limits.max_replicas) {
        return invalidArgument("replicas must be between 1 and " +
                               std::to_string(limits.max_replicas));
      }
      if (spec.duration_days < 1 || spec.duration_days > limits.max_duration_days) {
        return invalidArgument("duration_days must be between 1 and " +
                               std::to_string(limits.max_duration_days));
      }
      break;
    }
  }
  if (spec.kind != JobKind::kBackup &&
      (spec.capacity_gb != 0 || spec.replicas != 0 || spec.duration_days != 0)) {
    return invalidArgument("capacity_gb, replicas and duration_days are for backup jobs");
  }
  if (spec.kind != JobKind::kTrain && !spec.checkpoint_prefix.empty()) {
    return invalidArgument("checkpoint_prefix is for train jobs");
  }
  if (spec.gpu_memory_mb < 0 || spec.min_gpu_throughput < 0) {
    return invalidArgument("gpu_memory_mb and min_gpu_throughput must not be negative");
  }
  if (r.gpus == 0 &&
      (!spec.gpu_model.empty() || spec.gpu_memory_mb > 0 || spec.min_gpu_throughput > 0)) {
    return invalidArgument("gpu_model, gpu_memory_mb and min_gpu_throughput need resources.gpus");
  }
  if (spec.gpu_model.size() > 100) return invalidArgument("gpu_model is too long");
  if (spec.retry_backoff_seconds < 0 || spec.retry_backoff_seconds > limits.max_backoff_seconds ||
      spec.retry_backoff_max_seconds < spec.retry_backoff_seconds ||
      spec.retry_backoff_max_seconds > limits.max_backoff_seconds) {
    return invalidArgument(
        "retry_backoff_seconds must be between 0 and retry_backoff_max_seconds, which is at most " +
        std::to_string(limits.max_backoff_seconds));
  }
  if (spec.blocklist_after < 0 || spec.blocklist_after > 100) {
    return invalidArgument("blocklist_after must be between 0 (never) and 100");
  }
  if (spec.priority < -100 || spec.priority > 100) {
    return invalidArgument("priority must be between -100 and 100");
  }
  if (static_cast<int>(spec.after.size() + spec.task_after.size()) > limits.max_dependencies) {
    return invalidArgument("at most " + std::to_string(limits.max_dependencies) +
                           " dependencies per job");
  }
  for (std::size_t i = 0; i < spec.after.size(); ++i) {
    if (spec.after[i].empty()) return invalidArgument("after names an empty job id");
    for (std::size_t k = 0; k < i; ++k) {
      if (spec.after[k] == spec.after[i]) {
        return invalidArgument("after names job " + spec.after[i] + " twice");
      }
    }
  }
  for (const TaskAfter& t : spec.task_after) {
    if (t.job_id.empty()) return invalidArgument("task_after names an empty job id");
    if (t.task < -1 || t.task > limits.max_tasks) {
      return invalidArgument("task_after task index out of range");
    }
  }
  return okStatus();
}

std::vector<TaskPlan> planTasks(const JobSpec& spec) {
  std::vector<TaskPlan> out;
  if (spec.kind != JobKind::kRender) {
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
// Absurd bids can make an escrow exceed any balance: keep it a huge but valid number instead of
// letting it wrap negative.
Micros saturate(Int128 v) {
  constexpr Int128 kMax = std::numeric_limits<Micros>::max() / 4;
  return static_cast<Micros>(v > kMax ? kMax : v);
}
}  // namespace

Micros maxTaskCost(const JobSpec& spec) {
  if (spec.kind == JobKind::kBackup) {
    const Int128 total =
        static_cast<Int128>(spec.max_price) * spec.capacity_gb * spec.replicas * spec.duration_days;
    return saturate((total + 29) / 30);
  }
  return mulDivCeil(spec.max_price, spec.timeout_seconds, 3600);
}

Micros jobHold(const JobSpec& spec, std::size_t tasks) {
  // A backup is placed once: there are no attempts to pay for.
  const Micros attempts = spec.kind == JobKind::kBackup ? 1 : spec.max_attempts;
  return saturate(static_cast<Int128>(maxTaskCost(spec)) * static_cast<Int128>(tasks) * attempts);
}

std::int64_t retryDelayMillis(const JobSpec& spec, int failures) {
  if (failures < 1 || spec.retry_backoff_seconds <= 0) return 0;
  std::int64_t delay = spec.retry_backoff_seconds;
  for (int i = 1; i < failures && delay < spec.retry_backoff_max_seconds; ++i) delay *= 2;
  return std::min(delay, spec.retry_backoff_max_seconds) * 1000;
}

Micros attemptCost(Micros hourly_price, std::int64_t wall_millis) {
  if (hourly_price <= 0 || wall_millis <= 0) return 0;
  return mulDivCeil(hourly_price, wall_millis, 3'600'000);
}

}  // namespace dcloud::core
