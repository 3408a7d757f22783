#include "worker/task.h"

namespace dcloud::worker {

Result<Task> taskFromJson(const JsonObject& obj) {
  Task t;
  auto str = [&](const JsonObject& o, const char* key, std::string& out) -> Status {
    auto v = getString(o, key);
    if (!v.ok()) return v.error();
    out = *v;
    return okStatus();
  };
  DCLOUD_TRY(str(obj, "task_id", t.task_id));
  DCLOUD_TRY(str(obj, "attempt_id", t.attempt_id));
  DCLOUD_TRY(str(obj, "job_id", t.job_id));
  DCLOUD_TRY(str(obj, "output_bucket", t.output_bucket));
  DCLOUD_TRY(str(obj, "output_prefix", t.output_prefix));
  auto first = getInt(obj, "frame_first");
  auto last = getInt(obj, "frame_last");
  if (!first.ok()) return first.error();
  if (!last.ok()) return last.error();
  t.frame_first = static_cast<int>(*first);
  t.frame_last = static_cast<int>(*last);
  auto spec = getOptionalObject(obj, "spec");
  if (!spec.ok()) return spec.error();
  if (!spec->has_value()) return invalidArgument("task has no spec");
  const JsonObject& s = **spec;
  DCLOUD_TRY(str(s, "kind", t.kind));
  if (t.kind == "render") {
    DCLOUD_TRY(str(s, "scene", t.scene));
  } else if (t.kind == "command" || t.kind == "train") {
    // A train task runs like a command (on its GPUs) and learns its checkpoint prefix.
    auto cmd = getOptionalStringList(s, "command");
    if (!cmd.ok()) return cmd.error();
    t.command = cmd->value_or(std::vector<std::string>{});
    if (t.command.empty()) return invalidArgument("command task without a command");
    auto checkpoint = getOptionalString(s, "checkpoint_prefix");
    if (!checkpoint.ok()) return checkpoint.error();
    t.checkpoint_prefix = checkpoint->value_or("");
  } else {
    return invalidArgument("unknown task kind " + t.kind);
  }
  auto timeout = getOptionalInt(s, "timeout_seconds");
  if (!timeout.ok()) return timeout.error();
  t.timeout_seconds = timeout->value_or(3600);
  auto res = getOptionalObject(s, "resources");
  if (!res.ok()) return res.error();
  if (res->has_value()) {
    auto cores = getOptionalInt(**res, "cores");
    auto mem = getOptionalInt(**res, "memory_mb");
    auto gpus = getOptionalInt(**res, "gpus");
    if (!cores.ok() || !mem.ok() || !gpus.ok()) return invalidArgument("bad task resources");
    t.cores = static_cast<int>(cores->value_or(1));
    t.memory_mb = mem->value_or(1024);
    t.gpus = static_cast<int>(gpus->value_or(0));
  }
  auto s3 = getOptionalObject(obj, "s3");
  if (!s3.ok()) return s3.error();
  if (!s3->has_value()) return invalidArgument("task has no storage credentials");
  DCLOUD_TRY(str(**s3, "endpoint", t.s3_endpoint));
  DCLOUD_TRY(str(**s3, "access_key", t.s3.access_key));
  DCLOUD_TRY(str(**s3, "secret_key", t.s3.secret_key));
  auto region = getOptionalString(**s3, "region");
  if (!region.ok()) return region.error();
  t.s3.region = region->value_or("us-east-1");
  return t;
}

}  // namespace dcloud::worker
