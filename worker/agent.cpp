#include "worker/agent.h"

#include <chrono>
#include <vector>

#include "worker/task.h"

namespace dcloud::worker {

Agent::Agent(AgentConfig config, const KeyPair& provider_key, Sandbox& sandbox, const Clock& clock,
             Random& random, MetricsRegistry& metrics)
    : config_(std::move(config)),
      key_(provider_key),
      sandbox_(sandbox),
      clock_(clock),
      metrics_(metrics),
      scheduler_(config_.scheduler_url, &provider_key, clock, random) {}

Agent::~Agent() {
  stop();
  if (heartbeat_.joinable()) heartbeat_.join();
  std::lock_guard lock(mutex_);
  for (auto& [id, r] : running_) {
    r->cancel = true;
    if (r->thread.joinable()) r->thread.join();
  }
}

Status Agent::registerOffer() {
  auto hw = detectHardware(config_.scratch_dir);
  if (!hw.ok()) return hw.error();
  hardware_ = *hw;
  JsonObject body = new Poco::JSON::Object;
  body->set("hostname", hardware_.hostname);
  body->set("cores", config_.cores > 0 ? config_.cores : hardware_.cores);
  body->set("memory_mb",
            config_.memory_mb > 0 ? config_.memory_mb : hardware_.memory_bytes / (1024 * 1024));
  body->set("disk_mb", hardware_.disk_free_bytes / (1024 * 1024));
  Poco::JSON::Array::Ptr gpus = new Poco::JSON::Array;
  for (const auto& g : hardware_.gpus) {
    JsonObject o = new Poco::JSON::Object;
    o->set("api", g.api);
    o->set("name", g.name);
    o->set("memory_bytes", g.memory_bytes);
    gpus->add(o);
  }
  body->set("gpus", gpus);
  JsonObject prices = new Poco::JSON::Object;
  prices->set("cpu", formatMicros(config_.price_core_hour));
  prices->set("gpu", formatMicros(config_.price_gpu_hour));
  body->set("prices", prices);
  JsonObject hardware = new Poco::JSON::Object;
  hardware->set("cpu_model", hardware_.cpu_model);
  hardware->set("detected_cores", hardware_.cores);
  hardware->set("detected_memory_bytes", hardware_.memory_bytes);
  body->set("hardware", hardware);
  auto r = scheduler_.call("POST", "/v1/workers", body, 15000);
  if (!r.ok()) return r.error();
  auto id = getString(*r, "worker_id");
  if (!id.ok()) return internalError("scheduler sent no worker id");
  auto interval = getOptionalInt(*r, "heartbeat_interval_ms");
  if (interval.ok() && interval->has_value()) heartbeat_interval_millis_ = **interval;
  {
    std::lock_guard lock(mutex_);
    worker_id_ = *id;
  }
  log_.info("registered as worker " + worker_id_ + " (provider " + key_.id().substr(0, 16) + ", " +
            std::to_string(config_.cores > 0 ? config_.cores : hardware_.cores) + " cores, " +
            std::to_string(hardware_.gpus.size()) + " GPU(s), cpu " +
            formatMicros(config_.price_core_hour) + "/core-hour)");
  return okStatus();
}

void Agent::heartbeatLoop() {
  while (!stopping_) {
    std::string worker;
    JsonObject body = new Poco::JSON::Object;
    Poco::JSON::Array::Ptr running = new Poco::JSON::Array;
    {
      std::lock_guard lock(mutex_);
      worker = worker_id_;
      for (const auto& [attempt, r] : running_) {
        if (!r->done) running->add(attempt);
      }
    }
    body->set("running", running);
    auto r = scheduler_.call("POST", "/v1/workers/" + worker + "/heartbeat", body, 10000);
    if (r.ok()) {
      auto cancel = getOptionalStringList(*r, "cancel");
      if (cancel.ok() && cancel->has_value()) {
        std::lock_guard lock(mutex_);
        for (const auto& attempt : **cancel) {
          auto it = running_.find(attempt);
          if (it != running_.end() && !it->second->cancel) {
            log_.info("scheduler cancelled attempt " + attempt);
            it->second->cancel = true;
          }
        }
      }
    } else if (r.error().code == ErrorCode::kNotFound) {
      // Declared lost (e.g. after a network partition): our attempts were requeued elsewhere, so
      // stop them and come back as a new worker.
      log_.warn("scheduler no longer knows this worker (" + r.error().message +
                "); re-registering");
      {
        std::lock_guard lock(mutex_);
        for (auto& [attempt, run] : running_) run->cancel = true;
      }
      Status s = registerOffer();
      if (!s.ok()) log_.warn("re-registration failed: " + s.error().message);
    } else {
      log_.warn("heartbeat failed: " + r.error().message);
    }
    for (std::int64_t waited = 0; waited < heartbeat_interval_millis_ && !stopping_;
         waited += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void Agent::startTask(const JsonObject& obj) {
  auto task = taskFromJson(obj);
  if (!task.ok()) {
    log_.error("unreadable task from scheduler: " + task.error().message);
    return;
  }
  std::lock_guard lock(mutex_);
  if (running_.count(task->attempt_id)) return;
  // Stopping: run() has cancelled and collected what runs; a task handed over now is requeued by
  // the scheduler when this worker's heartbeats stop.
  if (stopping_) return;
  auto run = std::make_unique<Running>();
  Running* raw = run.get();
  run->attempt_id = task->attempt_id;
  RunnerConfig rc;
  rc.worker_id = worker_id_;
  rc.scratch_dir = config_.scratch_dir;
  rc.blender = config_.blender;
  rc.next_lease_wait_millis = config_.next_lease_wait_millis;
  run->thread = std::thread([this, raw, rc, t = *task]() {
    metrics_.gauge("dcloud_worker_tasks_running", "Attempts running now").add(1);
    TaskRunner runner(rc, scheduler_, key_, sandbox_, clock_);
    RunOutcome outcome = runner.run(t, raw->cancel);
    metrics_.gauge("dcloud_worker_tasks_running", "Attempts running now").add(-1);
    metrics_
        .counter("dcloud_worker_attempts_total", "Attempts finished",
                 {{"status", outcome.succeeded ? "succeeded" : "failed"}})
        .inc();
    metrics_.counter("dcloud_worker_bytes_uploaded_total", "Output bytes uploaded")
        .inc(static_cast<double>(outcome.bytes_out));
    // Work the completion brought back starts at once, without waiting for the lease loop.
    for (const JsonObject& next : outcome.next_tasks) startTask(next);
    raw->done = true;
  });
  running_.emplace(task->attempt_id, std::move(run));
}

void Agent::reapFinished() {
  std::vector<std::unique_ptr<Running>> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second->done) {
        finished.push_back(std::move(it->second));
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& r : finished) {
    if (r->thread.joinable()) r->thread.join();
  }
}

Status Agent::run() {
  // Registration retries while the scheduler is starting up.
  Status registered = registerOffer();
  for (int i = 0; !registered.ok() && i < 30 && !stopping_; ++i) {
    log_.warn("registration failed: " + registered.error().message + "; retrying");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    registered = registerOffer();
  }
  if (!registered.ok()) return registered;
  heartbeat_ = std::thread([this] { heartbeatLoop(); });
  while (!stopping_) {
    reapFinished();
    std::string worker;
    {
      std::lock_guard lock(mutex_);
      worker = worker_id_;
    }
    JsonObject body = new Poco::JSON::Object;
    body->set("wait_ms", config_.lease_wait_millis);
    auto r = scheduler_.call("POST", "/v1/workers/" + worker + "/lease", body,
                             static_cast<int>(config_.lease_wait_millis) + 15000);
    if (!r.ok()) {
      if (!stopping_) {
        log_.warn("lease request failed: " + r.error().message);
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      continue;
    }
    auto tasks = getOptionalArray(*r, "tasks");
    if (!tasks.ok() || !tasks->has_value()) continue;
    for (std::size_t i = 0; i < (**tasks)->size(); ++i) {
      auto o = (**tasks)->getObject(static_cast<unsigned>(i));
      if (o) startTask(o);
    }
  }
  // Stopping: cancel what runs; each runner reports its attempt failed, which requeues it.
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, r] : running_) r->cancel = true;
  }
  std::vector<std::unique_ptr<Running>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, r] : running_) all.push_back(std::move(r));
    running_.clear();
  }
  for (auto& r : all) {
    if (r->thread.joinable()) r->thread.join();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  log_.info("stopped");
  return okStatus();
}

void Agent::stop() {
  stopping_ = true;
}

}  // namespace dcloud::worker
