#include "scheduler/job_json.h"

#include <algorithm>
#include <charconv>

namespace dcloud::scheduler {

namespace {

Result<int> parseFrameNumber(const std::string& text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return invalidArgument("frame '" + text + "' is not a whole number");
  }
  return v;
}

Result<Micros> moneyField(const JsonObject& obj, const std::string& key, bool required) {
  if (!obj->has(key)) {
    if (required) return invalidArgument("field '" + key + "' is required");
    return Micros{0};
  }
  auto s = getString(obj, key);
  if (!s.ok()) return invalidArgument("field '" + key + "' must be a decimal string like \"1.5\"");
  auto m = parseMicros(*s);
  if (!m.ok()) return invalidArgument("field '" + key + "': " + m.error().message);
  return *m;
}

Status intField(const JsonObject& obj, const std::string& key, std::int64_t& out) {
  auto v = getOptionalInt(obj, key);
  if (!v.ok()) return v.error();
  if (v->has_value()) out = **v;
  return okStatus();
}

template <typename T>
Status narrow(const JsonObject& obj, const std::string& key, T& out) {
  std::int64_t v = out;
  DCLOUD_TRY(intField(obj, key, v));
  if (v < -2'000'000'000 || v > 2'000'000'000)
    return invalidArgument("field '" + key + "' is out of range");
  out = static_cast<T>(v);
  return okStatus();
}

Result<core::JobSpec> specFromObject(const JsonObject& obj, bool stored) {
  DCLOUD_TRY(requireOnlyFields(obj, {"kind",
                                     "name",
                                     "scene",
                                     "frames",
                                     "frame_first",
                                     "frame_last",
                                     "chunk",
                                     "command",
                                     "resources",
                                     "max_price",
                                     "min_reputation",
                                     "timeout_seconds",
                                     "max_attempts",
                                     "output_bucket",
                                     "retry_backoff_seconds",
                                     "retry_backoff_max_seconds",
                                     "blocklist_after",
                                     "priority",
                                     "preemptible",
                                     "after",
                                     "task_after",
                                     "gpu_model",
                                     "gpu_memory_mb",
                                     "min_gpu_throughput",
                                     "checkpoint_prefix",
                                     "capacity_gb",
                                     "replicas",
                                     "duration_days"}));
  core::JobSpec spec;
  auto kind = getString(obj, "kind");
  if (!kind.ok()) return kind.error();
  auto parsed_kind = core::parseJobKind(*kind);
  if (!parsed_kind.ok()) return parsed_kind.error();
  spec.kind = *parsed_kind;
  auto name = getOptionalString(obj, "name");
  if (!name.ok()) return name.error();
  spec.name = name->value_or("");
  auto scene = getOptionalString(obj, "scene");
  if (!scene.ok()) return scene.error();
  spec.scene = scene->value_or("");
  auto frames = getOptionalString(obj, "frames");
  if (!frames.ok()) return frames.error();
  if (frames->has_value()) {
    if (obj->has("frame_first") || obj->has("frame_last")) {
      return invalidArgument("give either frames or frame_first/frame_last");
    }
    auto range = parseFrameRange(**frames);
    if (!range.ok()) return range.error();
    spec.frame_first = range->first;
    spec.frame_last = range->second;
  } else {
    DCLOUD_TRY(narrow(obj, "frame_first", spec.frame_first));
    DCLOUD_TRY(narrow(obj, "frame_last", spec.frame_last));
    if (spec.kind == core::JobKind::kRender && !stored && !obj->has("frame_first")) {
      return invalidArgument("render jobs need frames, e.g. \"1-24\"");
    }
  }
  DCLOUD_TRY(narrow(obj, "chunk", spec.chunk));
  auto command = getOptionalStringList(obj, "command");
  if (!command.ok()) return command.error();
  spec.command = command->value_or(std::vector<std::string>{});
  auto resources = getOptionalObject(obj, "resources");
  if (!resources.ok()) return resources.error();
  if (resources->has_value()) {
    const JsonObject& r = **resources;
    DCLOUD_TRY(requireOnlyFields(r, {"cores", "memory_mb", "gpus", "disk_mb"}));
    DCLOUD_TRY(narrow(r, "cores", spec.resources.cores));
    DCLOUD_TRY(intField(r, "memory_mb", spec.resources.memory_mb));
    DCLOUD_TRY(narrow(r, "gpus", spec.resources.gpus));
    DCLOUD_TRY(intField(r, "disk_mb", spec.resources.disk_mb));
  }
  auto max_price = moneyField(obj, "max_price", true);
  if (!max_price.ok()) return max_price.error();
  spec.max_price = *max_price;
  auto min_rep = moneyField(obj, "min_reputation", false);
  if (!min_rep.ok()) return min_rep.error();
  spec.min_reputation = *min_rep;
  DCLOUD_TRY(intField(obj, "timeout_seconds", spec.timeout_seconds));
  DCLOUD_TRY(narrow(obj, "max_attempts", spec.max_attempts));
  DCLOUD_TRY(intField(obj, "retry_backoff_seconds", spec.retry_backoff_seconds));
  if (!obj->has("retry_backoff_max_seconds")) {
    // A base above the default cap raises the cap with it rather than being refused.
    spec.retry_backoff_max_seconds =
        std::max(spec.retry_backoff_max_seconds, spec.retry_backoff_seconds);
  }
  DCLOUD_TRY(intField(obj, "retry_backoff_max_seconds", spec.retry_backoff_max_seconds));
  DCLOUD_TRY(narrow(obj, "blocklist_after", spec.blocklist_after));
  DCLOUD_TRY(narrow(obj, "priority", spec.priority));
  auto preemptible = getOptionalBool(obj, "preemptible");
  if (!preemptible.ok()) return preemptible.error();
  spec.preemptible = preemptible->value_or(false);
  auto after = getOptionalStringList(obj, "after");
  if (!after.ok()) return after.error();
  spec.after = after->value_or(std::vector<std::string>{});
  auto task_after = getOptionalArray(obj, "task_after");
  if (!task_after.ok()) return task_after.error();
  if (task_after->has_value()) {
    const auto& arr = **task_after;
    if (arr->size() > 1000) return invalidArgument("task_after is too long");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      JsonObject t = arr->getObject(static_cast<unsigned>(i));
      if (!t) {
        return invalidArgument(
            "task_after entries are objects like {\"job\": ID} (frame by "
            "frame) or {\"job\": ID, \"task\": N}");
      }
      DCLOUD_TRY(requireOnlyFields(t, {"job", "task"}));
      auto job = getString(t, "job");
      if (!job.ok()) return job.error();
      core::TaskAfter dep{*job, -1};
      DCLOUD_TRY(narrow(t, "task", dep.task));
      if (t->has("task") && dep.task < 0) return invalidArgument("task_after task must be >= 0");
      spec.task_after.push_back(dep);
    }
  }
  auto gpu_model = getOptionalString(obj, "gpu_model");
  if (!gpu_model.ok()) return gpu_model.error();
  spec.gpu_model = gpu_model->value_or("");
  DCLOUD_TRY(intField(obj, "gpu_memory_mb", spec.gpu_memory_mb));
  DCLOUD_TRY(intField(obj, "min_gpu_throughput", spec.min_gpu_throughput));
  auto checkpoint = getOptionalString(obj, "checkpoint_prefix");
  if (!checkpoint.ok()) return checkpoint.error();
  spec.checkpoint_prefix = checkpoint->value_or("");
  DCLOUD_TRY(intField(obj, "capacity_gb", spec.capacity_gb));
  DCLOUD_TRY(narrow(obj, "replicas", spec.replicas));
  DCLOUD_TRY(intField(obj, "duration_days", spec.duration_days));
  if (spec.kind == core::JobKind::kBackup && !stored && !obj->has("resources")) {
    // Backups run nothing: the smallest valid resources, so compute limits never refuse one.
    spec.resources = {1, 16, 0, 0};
  }
  return spec;
}

}  // namespace

Result<std::pair<int, int>> parseFrameRange(const std::string& text) {
  if (text.empty()) return invalidArgument("frame range is empty");
  if (text.front() == '-') return invalidArgument("frame range '" + text + "' is negative");
  std::size_t dash = text.find('-');
  if (dash == std::string::npos) {
    auto f = parseFrameNumber(text);
    if (!f.ok()) return f.error();
    return std::make_pair(*f, *f);
  }
  auto a = parseFrameNumber(text.substr(0, dash));
  if (!a.ok()) return a.error();
  auto b = parseFrameNumber(text.substr(dash + 1));
  if (!b.ok()) return invalidArgument("frame range '" + text + "' must look like A-B");
  return std::make_pair(*a, *b);
}

Result<SubmittedJob> parseJobRequest(const std::string& body) {
  auto obj = parseJsonObject(body);
  if (!obj.ok()) return obj.error();
  auto spec = specFromObject(*obj, false);
  if (!spec.ok()) return spec.error();
  SubmittedJob out;
  out.spec = *spec;
  auto bucket = getOptionalString(*obj, "output_bucket");
  if (!bucket.ok()) return bucket.error();
  out.output_bucket = bucket->value_or("");
  return out;
}

std::string specToJson(const core::JobSpec& spec) {
  JsonObject o = new Poco::JSON::Object;
  o->set("kind", std::string(core::jobKindName(spec.kind)));
  o->set("name", spec.name);
  if (spec.kind == core::JobKind::kRender) {
    o->set("scene", spec.scene);
    o->set("frame_first", spec.frame_first);
    o->set("frame_last", spec.frame_last);
    o->set("chunk", spec.chunk);
  } else if (spec.kind == core::JobKind::kBackup) {
    o->set("capacity_gb", spec.capacity_gb);
    o->set("replicas", spec.replicas);
    o->set("duration_days", spec.duration_days);
  } else {
    Poco::JSON::Array::Ptr cmd = new Poco::JSON::Array;
    for (const auto& a : spec.command) cmd->add(a);
    o->set("command", cmd);
  }
  if (spec.kind == core::JobKind::kTrain && !spec.checkpoint_prefix.empty()) {
    o->set("checkpoint_prefix", spec.checkpoint_prefix);
  }
  if (!spec.gpu_model.empty()) o->set("gpu_model", spec.gpu_model);
  if (spec.gpu_memory_mb > 0) o->set("gpu_memory_mb", spec.gpu_memory_mb);
  if (spec.min_gpu_throughput > 0) o->set("min_gpu_throughput", spec.min_gpu_throughput);
  o->set("retry_backoff_seconds", spec.retry_backoff_seconds);
  o->set("retry_backoff_max_seconds", spec.retry_backoff_max_seconds);
  o->set("blocklist_after", spec.blocklist_after);
  o->set("priority", spec.priority);
  o->set("preemptible", spec.preemptible);
  if (!spec.after.empty()) {
    Poco::JSON::Array::Ptr after = new Poco::JSON::Array;
    for (const auto& a : spec.after) after->add(a);
    o->set("after", after);
  }
  if (!spec.task_after.empty()) {
    Poco::JSON::Array::Ptr deps = new Poco::JSON::Array;
    for (const auto& t : spec.task_after) {
      JsonObject d = new Poco::JSON::Object;
      d->set("job", t.job_id);
      if (t.task >= 0) d->set("task", t.task);
      deps->add(d);
    }
    o->set("task_after", deps);
  }
  JsonObject r = new Poco::JSON::Object;
  r->set("cores", spec.resources.cores);
  r->set("memory_mb", spec.resources.memory_mb);
  r->set("gpus", spec.resources.gpus);
  r->set("disk_mb", spec.resources.disk_mb);
  o->set("resources", r);
  o->set("max_price", formatMicros(spec.max_price));
  o->set("min_reputation", formatMicros(spec.min_reputation));
  o->set("timeout_seconds", spec.timeout_seconds);
  o->set("max_attempts", spec.max_attempts);
  return toJson(o);
}

Result<core::JobSpec> parseStoredSpec(const std::string& spec_json) {
  auto obj = parseJsonObject(spec_json);
  if (!obj.ok()) return obj.error();
  return specFromObject(*obj, true);
}

JsonObject jobToJson(const JobView& job, bool with_tasks) {
  JsonObject o = new Poco::JSON::Object;
  o->set("id", job.id);
  o->set("owner", job.owner);
  o->set("kind", job.kind);
  o->set("name", job.name);
  o->set("state", job.state);
  o->set("max_price", formatMicros(job.max_price));
  o->set("min_reputation", formatMicros(job.min_reputation));
  o->set("output", "s3://" + job.output_bucket + "/" + job.output_prefix);
  o->set("output_bucket", job.output_bucket);
  o->set("output_prefix", job.output_prefix);
  o->set("created_at", job.created_at);
  if (!job.finished_at.empty()) o->set("finished_at", job.finished_at);
  JsonObject counts = new Poco::JSON::Object;
  counts->set("total", job.counts.total());
  counts->set("pending", job.counts.pending);
  counts->set("leased", job.counts.leased);
  counts->set("running", job.counts.running);
  counts->set("succeeded", job.counts.succeeded);
  counts->set("failed", job.counts.failed);
  counts->set("cancelled", job.counts.cancelled);
  o->set("tasks_by_state", counts);
  o->set("cost", formatMicros(job.cost));
  o->set("cost_micros", job.cost);
  o->set("settled", formatMicros(job.settled));
  o->set("settled_micros", job.settled);
  o->set("paused", job.paused);
  o->set("priority", job.priority);
  o->set("preemptible", job.preemptible);
  if (job.blockers > 0) o->set("waiting_for_jobs", job.blockers);
  if (!job.wait_reason.empty() && (job.state == "queued" || job.state == "running")) {
    o->set("wait_reason", job.wait_reason);
  }
  if (!job.placements.empty()) {
    Poco::JSON::Array::Ptr placements = new Poco::JSON::Array;
    for (const auto& p : job.placements) {
      JsonObject po = new Poco::JSON::Object;
      po->set("worker_id", p.worker_id);
      po->set("provider", p.provider);
      po->set("capacity_mb", p.capacity_mb);
      po->set("price_gb_month", formatMicros(p.price_gb_month));
      po->set("expires_at", p.expires_at);
      if (!p.released_at.empty()) po->set("released_at", p.released_at);
      placements->add(po);
    }
    o->set("placements", placements);
    // A placed backup succeeded; its contract runs until every replica has been released.
    const bool expired = std::all_of(job.placements.begin(), job.placements.end(),
                                     [](const PlacementView& p) { return !p.released_at.empty(); });
    o->set("contract", expired ? "expired" : "active");
  }
  auto spec = parseJsonObject(job.spec_json);
  if (spec.ok()) o->set("spec", *spec);
  if (with_tasks) {
    Poco::JSON::Array::Ptr tasks = new Poco::JSON::Array;
    for (const auto& t : job.tasks) {
      JsonObject to = new Poco::JSON::Object;
      to->set("id", t.id);
      to->set("index", t.index);
      if (job.kind == "render") {
        to->set("frame_first", t.frame_first);
        to->set("frame_last", t.frame_last);
        to->set("frames_done", t.frames_done);
      }
      to->set("state", t.state);
      to->set("attempts", t.attempts);
      if (!t.worker_id.empty()) to->set("worker_id", t.worker_id);
      if (t.price) to->set("price", formatMicros(*t.price));
      if (t.cost) {
        to->set("cost", formatMicros(*t.cost));
        to->set("cost_micros", *t.cost);
      }
      to->set("settled", t.settled);
      Poco::JSON::Array::Ptr outputs = new Poco::JSON::Array;
      for (const auto& k : t.outputs) outputs->add("s3://" + job.output_bucket + "/" + k);
      to->set("outputs", outputs);
      if (t.exit_code) to->set("exit_code", *t.exit_code);
      if (!t.error.empty()) to->set("error", t.error);
      if (t.state == "pending" && t.not_before_ms > 0) to->set("not_before_ms", t.not_before_ms);
      if (t.state == "pending" && t.blockers > 0) to->set("waiting_for_tasks", t.blockers);
      tasks->add(to);
    }
    o->set("tasks", tasks);
  }
  return o;
}

JsonObject accountToJson(const AccountView& a) {
  JsonObject o = new Poco::JSON::Object;
  o->set("id", a.id);
  o->set("balance", formatMicros(a.balance));
  o->set("balance_micros", a.balance);
  o->set("reputation", formatMicros(a.reputation));
  o->set("reputation_micros", a.reputation);
  o->set("held", formatMicros(a.held));
  o->set("available", formatMicros(a.balance - a.held));
  return o;
}

JsonObject assignmentToJson(const Assignment& a) {
  JsonObject o = new Poco::JSON::Object;
  o->set("task_id", a.task_id);
  o->set("attempt_id", a.attempt_id);
  o->set("job_id", a.job_id);
  o->set("owner", a.owner);
  auto spec = parseJsonObject(specToJson(a.spec));
  if (spec.ok()) o->set("spec", *spec);
  o->set("frame_first", a.frame_first);
  o->set("frame_last", a.frame_last);
  o->set("output_bucket", a.output_bucket);
  o->set("output_prefix", a.output_prefix);
  o->set("price", formatMicros(a.price));
  return o;
}

}  // namespace dcloud::scheduler
