// Worker endpoints: register, heartbeat, lease (long poll), progress, complete.

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "common/receipt.h"
#include "scheduler/api.h"
#include "scheduler/job_json.h"

namespace dcloud::scheduler {

namespace {

const Logger& log() {
  static const Logger l("scheduler");
  return l;
}

Result<JsonObject> body(const ApiRequest& req) {
  return parseJsonObject(req.body.empty() ? "{}" : req.body);
}

// Every /v1/workers/{id}/... call must come from the provider that registered the worker.
Status authorizeWorker(const ApiDeps& d, const ApiRequest& req) {
  const std::string& id = req.path_params.at("id");
  if (!isUuid(id)) return invalidArgument("worker id '" + id + "' is not a UUID");
  return d.store.checkWorker(id, req.principal);
}

Result<std::vector<std::string>> attemptList(const JsonObject& obj, const char* key) {
  auto list = getOptionalStringList(obj, key);
  if (!list.ok()) return list.error();
  std::vector<std::string> out = list->value_or(std::vector<std::string>{});
  if (out.size() > 10'000) return invalidArgument(std::string(key) + " is too long");
  for (const auto& a : out) {
    if (!isUuid(a)) return invalidArgument("attempt id '" + a + "' is not a UUID");
  }
  return out;
}

// The offer's GPU qualities from the worker's hardware report: each entry may carry "name",
// "memory_bytes" and a measured "throughput_gflops". The offer is as good as its weakest GPU
// (a multi-GPU task gets any of them): the first model name, the least memory and throughput.
Status describeGpus(const JsonArray& gpus, WorkerRecord& w) {
  if (gpus->size() > 64) return invalidArgument("at most 64 GPUs per worker");
  std::int64_t memory = -1, throughput = -1;
  for (std::size_t i = 0; i < gpus->size(); ++i) {
    JsonObject g = gpus->getObject(static_cast<unsigned>(i));
    if (!g) continue;  // older workers may send bare entries
    auto name = getOptionalString(g, "name");
    auto bytes = getOptionalInt(g, "memory_bytes");
    auto gflops = getOptionalInt(g, "throughput_gflops");
    if (!name.ok() || !bytes.ok() || !gflops.ok()) {
      return invalidArgument("gpus[" + std::to_string(i) +
                             "]: name must be a string, memory_bytes and throughput_gflops "
                             "numbers");
    }
    if (w.gpu_model.empty()) w.gpu_model = name->value_or("").substr(0, 200);
    const std::int64_t mb = std::max<std::int64_t>(0, bytes->value_or(0)) / (1024 * 1024);
    const std::int64_t tp = std::max<std::int64_t>(0, gflops->value_or(0));
    memory = memory < 0 ? mb : std::min(memory, mb);
    throughput = throughput < 0 ? tp : std::min(throughput, tp);
  }
  w.gpu_memory_mb = std::max<std::int64_t>(0, memory);
  w.gpu_throughput = std::max<std::int64_t>(0, throughput);
  return okStatus();
}

class RegisterWorker final : public Endpoint {
 public:
  explicit RegisterWorker(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    auto obj = body(req);
    if (!obj.ok()) return ApiResponse::error(obj.error());
    Status fields = requireOnlyFields(
        *obj, {"hostname", "cores", "memory_mb", "disk_mb", "gpus", "prices", "hardware"});
    if (!fields.ok()) return ApiResponse::error(fields.error());
    WorkerRecord w;
    w.id = d_.random.uuid();
    w.provider = req.principal;
    auto hostname = getOptionalString(*obj, "hostname");
    auto cores = getInt(*obj, "cores");
    auto memory = getInt(*obj, "memory_mb");
    auto disk = getOptionalInt(*obj, "disk_mb");
    auto gpus = getOptionalArray(*obj, "gpus");
    auto prices = getOptionalObject(*obj, "prices");
    for (const Status& s : {hostname.ok() ? okStatus() : Status(hostname.error()),
                            cores.ok() ? okStatus() : Status(cores.error()),
                            memory.ok() ? okStatus() : Status(memory.error()),
                            disk.ok() ? okStatus() : Status(disk.error()),
                            gpus.ok() ? okStatus() : Status(gpus.error()),
                            prices.ok() ? okStatus() : Status(prices.error())}) {
      if (!s.ok()) return ApiResponse::error(s.error());
    }
    if (*cores < 1 || *cores > 4096)
      return ApiResponse::error(invalidArgument("cores out of range"));
    if (*memory < 64 || *memory > (1LL << 32)) {
      return ApiResponse::error(invalidArgument("memory_mb out of range"));
    }
    w.hostname = hostname->value_or("").substr(0, 255);
    w.capacity.cores = static_cast<int>(*cores);
    w.capacity.memory_mb = *memory;
    w.capacity.disk_mb = std::max<std::int64_t>(0, disk->value_or(0));
    w.capacity.gpus = gpus->has_value() ? static_cast<int>((**gpus)->size()) : 0;
    if (gpus->has_value()) {
      Status described = describeGpus(**gpus, w);
      if (!described.ok()) return ApiResponse::error(described.error());
    }
    if (!prices->has_value()) return ApiResponse::error(invalidArgument("prices are required"));
    const JsonObject& p = **prices;
    Status price_fields = requireOnlyFields(p, {"cpu", "gpu", "disk"});
    if (!price_fields.ok()) return ApiResponse::error(price_fields.error());
    // disk: per GB-month, for backups placed on this worker's free disk.
    for (auto [key, out] : {std::pair<const char*, Micros*>{"cpu", &w.price_core_hour},
                            std::pair<const char*, Micros*>{"gpu", &w.price_gpu_hour},
                            std::pair<const char*, Micros*>{"disk", &w.price_disk_gb_month}}) {
      auto text = getOptionalString(p, key);
      if (!text.ok()) return ApiResponse::error(text.error());
      auto m = parseMicros(text->value_or("0"));
      if (!m.ok())
        return ApiResponse::error(
            invalidArgument(std::string("price ") + key + ": " + m.error().message));
      *out = *m;
    }
    w.offer_json = req.body;
    // The first heartbeat goes in before the worker row: a liveness check between the two would
    // otherwise find an alive worker that never heartbeat and declare it lost at once. A stray
    // heartbeat of a failed registration only expires.
    Status hb = d_.signals.heartbeat(w.id, d_.clock.nowMillis());
    if (!hb.ok())
      return ApiResponse::error(unavailable("cannot record heartbeat: " + hb.error().message));
    Status s = d_.store.registerWorker(w);
    if (!s.ok()) return ApiResponse::error(s.error());
    log().info("worker " + w.id + " registered by provider " + w.provider.substr(0, 16) + ": " +
               std::to_string(w.capacity.cores) + " cores, " +
               std::to_string(w.capacity.memory_mb) + " MB, " + std::to_string(w.capacity.gpus) +
               " GPU(s), cpu " + formatMicros(w.price_core_hour) + "/core-hour");
    d_.dispatcher.trigger();
    JsonObject out = new Poco::JSON::Object;
    out->set("worker_id", w.id);
    out->set("heartbeat_interval_ms", d_.config.heartbeat_interval_millis);
    out->set("heartbeat_timeout_ms", d_.config.heartbeat_timeout_millis);
    return ApiResponse::json(out, 201);
  }

 private:
  const ApiDeps& d_;
};

class Heartbeat final : public Endpoint {
 public:
  explicit Heartbeat(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    if (Status s = authorizeWorker(d_, req); !s.ok()) return ApiResponse::error(s.error());
    const std::string& id = req.path_params.at("id");
    auto obj = body(req);
    if (!obj.ok()) return ApiResponse::error(obj.error());
    if (Status s = requireOnlyFields(*obj, {"running"}); !s.ok())
      return ApiResponse::error(s.error());
    auto running = attemptList(*obj, "running");
    if (!running.ok()) return ApiResponse::error(running.error());
    Status hb = d_.signals.heartbeat(id, d_.clock.nowMillis());
    if (!hb.ok())
      return ApiResponse::error(unavailable("cannot record heartbeat: " + hb.error().message));
    auto requeued = d_.store.reconcileHeartbeat(id, *running, d_.config.lost_lease_grace_seconds);
    if (!requeued.ok()) return ApiResponse::error(requeued.error());
    if (!requeued->empty()) d_.dispatcher.trigger();
    auto cancel = d_.store.cancelledAttempts(id, *running);
    if (!cancel.ok()) return ApiResponse::error(cancel.error());
    JsonObject out = new Poco::JSON::Object;
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto& a : *cancel) arr->add(a);
    out->set("cancel", arr);
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

// Hands the worker's booked, undelivered tasks over, each with storage credentials for its
// prefixes; an empty array when none is booked.
Result<Poco::JSON::Array::Ptr> deliver(const ApiDeps& d, const std::string& worker_id,
                                       const std::vector<Assignment>& tasks) {
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& a : tasks) {
    auto creds = d.gateway.credentials(a.owner, a.output_bucket,
                                       taskGrants(a.spec, a.output_bucket, a.output_prefix),
                                       taskCredentialTtlSeconds(a.spec));
    if (!creds.ok()) {
      (void)d.store.releaseAssignments(worker_id, tasks);
      return unavailable("cannot mint storage credentials: " + creds.error().message);
    }
    JsonObject o = assignmentToJson(a);
    JsonObject s3 = new Poco::JSON::Object;
    s3->set("endpoint", d.config.s3_endpoint);
    s3->set("region", d.config.s3_region);
    s3->set("access_key", creds->access_key);
    s3->set("secret_key", creds->secret_key);
    s3->set("expires_at_ms", creds->expires_at_ms);
    o->set("s3", s3);
    arr->add(o);
    log().info("task " + a.task_id + " (attempt " + a.attempt_id + ") delivered to worker " +
               worker_id);
    JsonObject event = new Poco::JSON::Object;
    event->set("task", a.task_id);
    event->set("index", a.index);
    event->set("attempt", a.attempt_id);
    event->set("worker", worker_id);
    event->set("price", formatMicros(a.price));
    publishJobEvent(d, a.job_id, "task.leased", event);
  }
  return arr;
}

// A long poll's place in the dispatcher's hand-over (only while this process leads: a follower's
// polls are woken through Redis). Whatever was handed to it and not delivered goes back to the
// database when it ends, for the worker's next poll.
class HandoffTicket {
 public:
  HandoffTicket(const ApiDeps& d, const std::string& worker_id)
      : d_(d), worker_id_(worker_id), by_hand_(d.dispatcher.fencingToken() != 0) {
    if (by_hand_) ticket_ = d_.dispatcher.handoff().enter(worker_id_);
  }
  ~HandoffTicket() { (void)d_.store.releaseAssignments(worker_id_, leave()); }
  HandoffTicket(const HandoffTicket&) = delete;
  HandoffTicket& operator=(const HandoffTicket&) = delete;

  bool byHand() const { return by_hand_; }
  LeaseHandoff::Woken wait(double seconds) {
    return d_.dispatcher.handoff().wait(
        ticket_, std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)));
  }
  // Ends the poll's place; what was handed over meanwhile is the caller's to deliver.
  std::vector<Assignment> leave() {
    if (!by_hand_) return {};
    by_hand_ = false;
    return d_.dispatcher.handoff().leave(ticket_);
  }

 private:
  const ApiDeps& d_;
  const std::string& worker_id_;
  bool by_hand_;
  LeaseHandoff::Ticket ticket_ = 0;
};

// The long poll: waits up to wait_ms for work booked onto the worker, then hands it over.
Result<Poco::JSON::Array::Ptr> leaseTasks(const ApiDeps& d, const std::string& worker_id,
                                          std::int64_t wait_ms) {
  // Deadlines for the long poll are real time: this is waiting, not logic.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  // Entered before the database is read: a booking after that comes by hand or pokes it.
  HandoffTicket ticket(d, worker_id);
  auto deliverAll = [&](std::vector<Assignment> tasks) {
    for (auto& a : ticket.leave()) tasks.push_back(std::move(a));
    return deliver(d, worker_id, tasks);
  };
  while (true) {
    auto taken = d.store.takeAssignments(worker_id);
    if (!taken.ok()) return taken.error();
    if (!taken->empty()) return deliverAll(std::move(*taken));
    const auto left =
        std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0.01) break;
    if (ticket.byHand() && d.dispatcher.fencingToken() == 0) {
      // This process stopped leading (and poked every poll): the leader wakes this worker through
      // Redis from now on.
      std::vector<Assignment> late = ticket.leave();
      if (!late.empty()) return deliver(d, worker_id, late);
    }
    if (ticket.byHand()) {
      // Every booking for this worker comes by hand or pokes: no need to read the database again
      // until then.
      auto woken = ticket.wait(left);
      if (!woken.handed.empty()) return deliverAll(std::move(woken.handed));
      continue;  // poked (work in the database, or the lead moved) or the deadline
    }
    // Re-check the database at least every 2 s in case a Redis wake-up was lost.
    auto woken = d.signals.waitForWake(worker_id, std::min(left, 2.0));
    if (!woken.ok()) {
      log().warn("wake-up wait failed: " + woken.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::vector<Assignment> late = ticket.leave();
  if (!late.empty()) return deliver(d, worker_id, late);
  return Poco::JSON::Array::Ptr(new Poco::JSON::Array);
}

// wait_ms of a lease request, clamped to the configured maximum; absent: the maximum.
Result<std::int64_t> leaseWait(const ApiDeps& d, const JsonObject& obj, const char* key) {
  auto wait = getOptionalInt(obj, key);
  if (!wait.ok()) return wait.error();
  return std::clamp<std::int64_t>(wait->value_or(d.config.lease_wait_max_millis), 0,
                                  d.config.lease_wait_max_millis);
}

class Lease final : public Endpoint {
 public:
  explicit Lease(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    if (Status s = authorizeWorker(d_, req); !s.ok()) return ApiResponse::error(s.error());
    auto obj = body(req);
    if (!obj.ok()) return ApiResponse::error(obj.error());
    if (Status s = requireOnlyFields(*obj, {"wait_ms"}); !s.ok())
      return ApiResponse::error(s.error());
    auto wait_ms = leaseWait(d_, *obj, "wait_ms");
    if (!wait_ms.ok()) return ApiResponse::error(wait_ms.error());
    auto tasks = leaseTasks(d_, req.path_params.at("id"), *wait_ms);
    if (!tasks.ok()) return ApiResponse::error(tasks.error());
    JsonObject out = new Poco::JSON::Object;
    out->set("tasks", *tasks);
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

class Progress final : public Endpoint {
 public:
  explicit Progress(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    if (Status s = authorizeWorker(d_, req); !s.ok()) return ApiResponse::error(s.error());
    auto obj = body(req);
    if (!obj.ok()) return ApiResponse::error(obj.error());
    if (Status s = requireOnlyFields(*obj, {"attempt_id", "frames_done", "outputs", "log"});
        !s.ok()) {
      return ApiResponse::error(s.error());
    }
    auto attempt = getString(*obj, "attempt_id");
    auto frames = getOptionalInt(*obj, "frames_done");
    auto outputs = getOptionalStringList(*obj, "outputs");
    auto log_lines = getOptionalStringList(*obj, "log");
    if (!attempt.ok()) return ApiResponse::error(attempt.error());
    if (!frames.ok()) return ApiResponse::error(frames.error());
    if (!outputs.ok()) return ApiResponse::error(outputs.error());
    if (!log_lines.ok()) return ApiResponse::error(log_lines.error());
    const std::vector<std::string> lines = log_lines->value_or(std::vector<std::string>{});
    if (lines.size() > 1000) return ApiResponse::error(invalidArgument("at most 1000 log lines"));
    const std::string& task = req.path_params.at("task");
    if (!isUuid(task) || !isUuid(*attempt)) {
      return ApiResponse::error(invalidArgument("task and attempt ids must be UUIDs"));
    }
    const std::int64_t done = frames->value_or(0);
    if (done < 0 || done > 1'000'000)
      return ApiResponse::error(invalidArgument("frames_done out of range"));
    const std::vector<std::string> keys = outputs->value_or(std::vector<std::string>{});
    auto ref = d_.store.reportProgress(req.path_params.at("id"), task, *attempt,
                                       static_cast<int>(done), keys);
    if (!ref.ok()) return ApiResponse::error(ref.error());
    JsonObject event = new Poco::JSON::Object;
    event->set("task", task);
    event->set("index", ref->index);
    if (!lines.empty()) {
      Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
      for (const auto& l : lines) arr->add(l.substr(0, 2000));
      event->set("lines", arr);
      publishJobEvent(d_, ref->job_id, "log", event);
    } else {
      event->set("frames_done", static_cast<int>(done));
      event->set("outputs", static_cast<int>(keys.size()));
      publishJobEvent(d_, ref->job_id, "task.progress", event);
    }
    JsonObject out = new Poco::JSON::Object;
    out->set("ok", true);
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

class Complete final : public Endpoint {
 public:
  explicit Complete(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    if (Status s = authorizeWorker(d_, req); !s.ok()) return ApiResponse::error(s.error());
    auto obj = body(req);
    if (!obj.ok()) return ApiResponse::error(obj.error());
    if (Status s = requireOnlyFields(*obj, {"attempt_id", "status", "exit_code", "error", "outputs",
                                            "receipt", "receipt_signature", "lease_wait_ms"});
        !s.ok()) {
      return ApiResponse::error(s.error());
    }
    // With lease_wait_ms the completion is also a lease request: the slot it frees is booked
    // again and the next work comes back in this response, one round trip per task.
    const bool lease_next = (*obj)->has("lease_wait_ms");
    auto lease_wait = leaseWait(d_, *obj, "lease_wait_ms");
    if (!lease_wait.ok()) return ApiResponse::error(lease_wait.error());
    Completion c;
    c.worker_id = req.path_params.at("id");
    c.task_id = req.path_params.at("task");
    auto attempt = getString(*obj, "attempt_id");
    auto status = getString(*obj, "status");
    auto exit_code = getOptionalInt(*obj, "exit_code");
    auto error = getOptionalString(*obj, "error");
    auto outputs = getOptionalStringList(*obj, "outputs");
    auto receipt = getOptionalObject(*obj, "receipt");
    auto signature = getString(*obj, "receipt_signature");
    for (const Error* e :
         {attempt.ok() ? nullptr : &attempt.error(), status.ok() ? nullptr : &status.error(),
          exit_code.ok() ? nullptr : &exit_code.error(), error.ok() ? nullptr : &error.error(),
          outputs.ok() ? nullptr : &outputs.error(), receipt.ok() ? nullptr : &receipt.error(),
          signature.ok() ? nullptr : &signature.error()}) {
      if (e) return ApiResponse::error(*e);
    }
    if (*status != "succeeded" && *status != "failed") {
      return ApiResponse::error(invalidArgument("status must be succeeded or failed"));
    }
    if (!receipt->has_value()) return ApiResponse::error(invalidArgument("receipt is required"));
    auto parsed = receiptFromJson(**receipt);
    if (!parsed.ok()) return ApiResponse::error(parsed.error());
    c.attempt_id = *attempt;
    c.succeeded = *status == "succeeded";
    c.exit_code = static_cast<int>(exit_code->value_or(c.succeeded ? 0 : -1));
    c.error = error->value_or("").substr(0, 4000);
    c.outputs = outputs->value_or(std::vector<std::string>{});
    c.receipt = *parsed;
    c.receipt_signature = *signature;
    c.receipt_json = toJson(**receipt);
    c.now_ms = d_.clock.nowMillis();
    if (!isUuid(c.task_id) || !isUuid(c.attempt_id)) {
      return ApiResponse::error(invalidArgument("task and attempt ids must be UUIDs"));
    }
    if (c.receipt.receipt_id != c.attempt_id || c.receipt.task_id != c.task_id ||
        c.receipt.worker_id != c.worker_id || c.receipt.provider != req.principal) {
      return ApiResponse::error(invalidArgument(
          "receipt does not describe this attempt (receipt_id, task_id, worker_id, provider)"));
    }
    if (!verifyReceipt(c.receipt, c.receipt_signature)) {
      return ApiResponse::error(Error{ErrorCode::kUnauthenticated,
                                      "receipt signature does not verify", "invalid-signature"});
    }
    auto result = d_.store.completeTask(c);
    if (!result.ok()) return ApiResponse::error(result.error());
    log().info("task " + c.task_id + " attempt " + c.attempt_id + " " + *status + " -> task " +
               result->task_state + ", job " + result->job_state + ", cost " +
               formatMicros(result->cost));
    JsonObject event = new Poco::JSON::Object;
    event->set("task", c.task_id);
    event->set("index", result->task.index);
    event->set("attempt", c.attempt_id);
    event->set("status", *status);
    event->set("task_state", result->task_state);
    event->set("cost", formatMicros(result->cost));
    if (!c.error.empty()) event->set("error", c.error);
    publishJobEvent(d_, result->task.job_id, "task.finished", event);
    if (result->job_state == "succeeded" || result->job_state == "failed" ||
        result->job_state == "cancelled") {
      JsonObject done = new Poco::JSON::Object;
      done->set("state", result->job_state);
      publishJobEvent(d_, result->task.job_id, "job.finished", done);
    }
    d_.metrics
        .counter("dcloud_scheduler_attempts_total", "Task attempts completed",
                 {{"status", *status}})
        .inc();
    // The attempt freed its resources: plan again at once, from the queue the dispatcher holds; a
    // task back in the queue for a retry is new work the queue must reload to see.
    d_.dispatcher.attemptFinished(c.attempt_id);
    if (result->task_state == "pending") d_.dispatcher.triggerQueued();
    JsonObject out = new Poco::JSON::Object;
    out->set("task_state", result->task_state);
    out->set("job_state", result->job_state);
    out->set("cost", formatMicros(result->cost));
    if (lease_next) {
      // The completion stands whatever happens here: work that cannot be handed over now stays
      // booked for the worker's next lease request.
      auto tasks = leaseTasks(d_, c.worker_id, *lease_wait);
      if (!tasks.ok()) log().warn("lease after completion failed: " + tasks.error().message);
      out->set("tasks", tasks.ok() ? *tasks : Poco::JSON::Array::Ptr(new Poco::JSON::Array));
    }
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

}  // namespace

void addWorkerRoutes(Router& r, const ApiDeps& deps) {
  r.add("POST", "/v1/workers", Auth::kSigned, std::make_shared<RegisterWorker>(deps));
  r.add("POST", "/v1/workers/{id}/heartbeat", Auth::kSigned, std::make_shared<Heartbeat>(deps));
  r.add("POST", "/v1/workers/{id}/lease", Auth::kSigned, std::make_shared<Lease>(deps));
  r.add("POST", "/v1/workers/{id}/tasks/{task}/progress", Auth::kSigned,
        std::make_shared<Progress>(deps));
  r.add("POST", "/v1/workers/{id}/tasks/{task}/complete", Auth::kSigned,
        std::make_shared<Complete>(deps));
}

}  // namespace dcloud::scheduler
