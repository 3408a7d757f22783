#include "scheduler/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "common/log.h"
#include "common/receipt.h"
#include "scheduler/core/matching.h"
#include "scheduler/job_json.h"

namespace dcloud::scheduler {

bool isUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

namespace {

const Logger& apiLog() {
  static const Logger log("scheduler");
  return log;
}

std::string defaultBucket(const std::string& owner) {
  return "u-" + owner.substr(0, 16);
}

Status requireUuid(const std::string& s, const char* what) {
  if (!isUuid(s)) return invalidArgument(std::string(what) + " '" + s + "' is not a UUID");
  return okStatus();
}

// Price discovery on submit reads offers at most this old.
constexpr std::chrono::milliseconds kOfferSnapshotAge{250};

// A job as getJob shows it right after its insert.
JobView submittedView(const NewJob& job, const std::string& created_at) {
  JobView v;
  v.id = job.id;
  v.owner = job.owner;
  v.kind = core::jobKindName(job.spec.kind);
  v.name = job.spec.name;
  v.state = "queued";
  v.max_price = job.spec.max_price;
  v.min_reputation = job.spec.min_reputation;
  v.output_bucket = job.output_bucket;
  v.output_prefix = job.output_prefix;
  v.task_count = static_cast<int>(job.tasks.size());
  v.created_at = created_at;
  v.spec_json = job.spec_json;
  v.counts.pending = static_cast<int>(job.tasks.size());
  v.priority = job.spec.priority;
  v.preemptible = job.spec.preemptible;
  v.wait_reason = job.wait_reason;
  return v;
}

class SubmitJob final : public Endpoint {
 public:
  explicit SubmitJob(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    auto submitted = parseJobRequest(req.body);
    if (!submitted.ok()) return ApiResponse::error(submitted.error());
    core::JobSpec& spec = submitted->spec;
    Status valid = core::validateJobSpec(spec, d_.config.limits);
    if (!valid.ok()) return ApiResponse::error(valid.error());
    const std::string bucket =
        submitted->output_bucket.empty() ? defaultBucket(req.principal) : submitted->output_bucket;
    std::string scene_key;
    if (spec.kind == core::JobKind::kRender) {
      auto loc = parseS3Location(spec.scene);
      if (!loc.ok()) return ApiResponse::error(loc.error());
      if (loc->first != bucket || loc->second.empty()) {
        return ApiResponse::error(invalidArgument(
            "scene must be an object in the job's output bucket s3://" + bucket + "/"));
      }
    }
    if (!spec.checkpoint_prefix.empty()) {
      auto loc = parseS3Location(spec.checkpoint_prefix);
      if (!loc.ok()) return ApiResponse::error(loc.error());
      if (loc->first != bucket || loc->second.empty()) {
        return ApiResponse::error(invalidArgument(
            "checkpoint_prefix must be a prefix in the job's output bucket s3://" + bucket + "/"));
      }
    }
    for (const auto& id : spec.after) {
      if (Status s = requireUuid(id, "after: job id"); !s.ok())
        return ApiResponse::error(s.error());
    }
    for (const auto& t : spec.task_after) {
      if (Status s = requireUuid(t.job_id, "task_after: job id"); !s.ok()) {
        return ApiResponse::error(s.error());
      }
    }
    // Price discovery before anything is written: a bid nobody accepts is refused with the
    // lowest price that would be accepted now.
    auto offers = d_.store.recentOffers(kOfferSnapshotAge);
    if (!offers.ok()) return ApiResponse::error(offers.error());
    core::TaskDemand demand{spec.resources, spec.max_price, spec.min_reputation};
    demand.gpu_model = spec.gpu_model;
    demand.gpu_memory_mb = spec.gpu_memory_mb;
    demand.min_gpu_throughput = spec.min_gpu_throughput;
    const bool backup = spec.kind == core::JobKind::kBackup;
    if (backup) demand.need = {0, 0, 0, core::backupDiskMb(spec)};
    core::Placeability placeable =
        backup ? core::checkReplicasPlaceable(demand, spec.replicas, *offers)
               : core::checkPlaceable(demand, *offers);
    if (placeable.kind == core::Placeability::Kind::kTooLow) {
      const char* unit = backup ? " per GB-month" : " per task-hour";
      return ApiResponse::error(Error{ErrorCode::kPaymentRequired,
                                      "no provider accepts " + formatMicros(spec.max_price) + unit +
                                          "; the lowest acceptable price now is " +
                                          formatMicros(placeable.acceptable_price),
                                      "too-low", formatMicros(placeable.acceptable_price)});
    }
    // A job nobody can hold now stays queued (workers come and go), with the reason shown.
    std::string wait_reason;
    if (placeable.kind == core::Placeability::Kind::kNoOffer) {
      wait_reason = backup ? "fewer than " + std::to_string(spec.replicas) + " providers offer " +
                                 std::to_string(spec.capacity_gb) +
                                 " GB of disk with the reputation asked for"
                           : core::explainUnplaceable(demand, *offers);
      if (wait_reason.empty()) wait_reason = "no alive worker fits this job now";
    }
    Status bucket_ok = d_.gateway.ensureBucket(req.principal, bucket);
    if (!bucket_ok.ok()) return ApiResponse::error(bucket_ok.error());

    NewJob job;
    job.id = d_.random.uuid();
    job.owner = req.principal;
    job.spec = spec;
    job.spec_json = specToJson(spec);
    job.output_bucket = bucket;
    job.output_prefix = "jobs/" + job.id + "/";
    job.tasks = core::planTasks(spec);
    for (std::size_t i = 0; i < job.tasks.size(); ++i) job.task_ids.push_back(d_.random.uuid());
    // Every attempt is billed (the provider did the work), so the escrow covers all of them.
    job.hold = core::jobHold(spec, job.tasks.size());
    job.max_queued_tasks = d_.config.limits.max_queued_tasks_per_owner;
    job.wait_reason = wait_reason;
    std::string created_at;
    Status created = d_.store.createJob(job, &created_at);
    if (!created.ok()) return ApiResponse::error(created.error());
    apiLog().info("job " + job.id + " submitted by " + req.principal.substr(0, 16) + ": " +
                  core::jobKindName(spec.kind) + ", " + std::to_string(job.tasks.size()) +
                  " task(s), escrow " + formatMicros(job.hold));
    d_.metrics.counter("dcloud_scheduler_jobs_submitted_total", "Jobs accepted").inc();
    JsonObject event = new Poco::JSON::Object;
    event->set("kind", std::string(core::jobKindName(spec.kind)));
    event->set("tasks", static_cast<int>(job.tasks.size()));
    publishJobEvent(d_, job.id, "job.submitted", event);
    // The job's storage credentials are minted now, in the background, not on its first lease.
    if (!backup) {
      d_.gateway.prefetchCredentials(job.owner, job.output_bucket,
                                     taskGrants(spec, job.output_bucket, job.output_prefix),
                                     taskCredentialTtlSeconds(spec));
    }
    // Tasks ready at once go to the dispatcher as they are, sparing it a reload of the queue;
    // those that wait for other work (their blockers are counted in SQL) and backups are loaded.
    if (spec.after.empty() && spec.task_after.empty() && !backup) {
      std::vector<core::QueuedTask> ready;
      ready.reserve(job.tasks.size());
      const std::int64_t now_ms = d_.clock.nowMillis();
      for (const std::string& task_id : job.task_ids) {
        core::QueuedTask q(task_id, job.owner, demand, job.id, spec.priority, now_ms);
        q.preemptible = spec.preemptible;
        ready.push_back(std::move(q));
      }
      d_.dispatcher.submitted(std::move(ready));
    } else {
      d_.dispatcher.triggerQueued();
    }
    // The answer is what was just inserted; only a job with dependencies (its blocker counts
    // are computed in SQL) is read back.
    JobView view = submittedView(job, created_at);
    if (!spec.after.empty() || !spec.task_after.empty()) {
      auto stored = d_.store.getJob(req.principal, job.id);
      if (!stored.ok()) return ApiResponse::error(stored.error());
      view = std::move(*stored);
    }
    JsonObject out = jobToJson(view, false);
    if (placeable.kind == core::Placeability::Kind::kNoOffer) {
      out->set("warning",
               "no registered worker fits this job now; it waits for one (" + wait_reason + ")");
    }
    return ApiResponse::json(out, 201);
  }

 private:
  static Result<std::pair<std::string, std::string>> parseS3Location(const std::string& url) {
    if (url.rfind("s3://", 0) != 0) return invalidArgument("not an s3:// URL: " + url);
    std::string rest = url.substr(5);
    std::size_t slash = rest.find('/');
    if (slash == std::string::npos) return std::make_pair(rest, std::string());
    return std::make_pair(rest.substr(0, slash), rest.substr(slash + 1));
  }
  const ApiDeps& d_;
};

// GET /v1/jobs/{id}/events: Server-Sent Events of one job (task leased, progress, log lines,
// task finished, job finished). ?after=ID or Last-Event-ID resumes; ?follow=false returns what
// is stored and ends. A followed stream ends after job.finished.
class JobEventStream final : public Endpoint {
 public:
  explicit JobEventStream(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string id = req.path_params.at("id");
    if (Status s = requireUuid(id, "job id"); !s.ok()) return ApiResponse::error(s.error());
    auto job = d_.store.getJob(req.principal, id);
    if (!job.ok()) return ApiResponse::error(job.error());
    std::string after = req.header("last-event-id");
    if (after.empty()) after = req.queryParam("after", "0");
    if (!isStreamId(after)) {
      return ApiResponse::error(invalidArgument("after must be an event id like 1700000000000-0"));
    }
    const bool follow = req.queryParam("follow", "true") != "false";
    const std::string owner = req.principal;
    return ApiResponse::eventStream([this, id, after, follow, owner](std::ostream& os) {
      std::string cursor = after;
      int idle_rounds = 0;
      while (os.good()) {
        auto events = d_.events.read(id, cursor, follow ? 2.0 : 0.0);
        if (!events.ok()) {
          os << "event: error\ndata: " << errorJsonFor(events.error()) << "\n\n";
          os.flush();
          return;
        }
        bool finished = false;
        for (const auto& e : *events) {
          os << "id: " << e.id << "\nevent: " << e.type << "\ndata: " << e.data << "\n\n";
          cursor = e.id;
          finished = finished || e.type == "job.finished";
        }
        os.flush();
        if (finished || (!follow && events->empty())) return;
        if (!events->empty()) {
          idle_rounds = 0;
          continue;
        }
        // Quiet: keep the connection alive, and end it if the job ended while its events expired.
        os << ": keepalive\n\n";
        os.flush();
        if (++idle_rounds % 5 == 0) {
          auto now = d_.store.getJob(owner, id);
          if (now.ok() &&
              (now->state == "succeeded" || now->state == "failed" || now->state == "cancelled")) {
            return;
          }
        }
      }
    });
  }

 private:
  static bool isStreamId(const std::string& s) {
    if (s == "0") return true;
    const std::size_t dash = s.find('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == s.size() || s.size() > 41) {
      return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i != dash && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  }
  static std::string errorJsonFor(const Error& e) {
    JsonObject o = new Poco::JSON::Object;
    o->set("message", e.message);
    return toJson(o);
  }
  const ApiDeps& d_;
};

class ListJobs final : public Endpoint {
 public:
  explicit ListJobs(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    int limit = 50;
    try {
      limit = std::clamp(std::stoi(req.queryParam("limit", "50")), 1, 1000);
    } catch (const std::exception&) {
      return ApiResponse::error(invalidArgument("limit must be a number"));
    }
    // state=active: only queued and running jobs (what a "wait for all" loop polls, at a cost
    // that shrinks as they finish).
    const std::string state = req.queryParam("state", "");
    if (!state.empty() && state != "active") {
      return ApiResponse::error(invalidArgument("state must be 'active' or absent"));
    }
    auto jobs = d_.store.listJobs(req.principal, limit, state == "active");
    if (!jobs.ok()) return ApiResponse::error(jobs.error());
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto& j : *jobs) arr->add(jobToJson(j, false));
    JsonObject out = new Poco::JSON::Object;
    out->set("jobs", arr);
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

class GetJob final : public Endpoint {
 public:
  explicit GetJob(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string& id = req.path_params.at("id");
    if (Status s = requireUuid(id, "job id"); !s.ok()) return ApiResponse::error(s.error());
    auto job = d_.store.getJob(req.principal, id);
    if (!job.ok()) return ApiResponse::error(job.error());
    return ApiResponse::json(jobToJson(*job, true));
  }

 private:
  const ApiDeps& d_;
};

class CancelJob final : public Endpoint {
 public:
  explicit CancelJob(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string& id = req.path_params.at("id");
    if (Status s = requireUuid(id, "job id"); !s.ok()) return ApiResponse::error(s.error());
    auto running = d_.store.cancelJob(req.principal, id);
    if (!running.ok()) return ApiResponse::error(running.error());
    apiLog().info("job " + id + " cancelled; " + std::to_string(running->size()) +
                  " running attempt(s) will be stopped");
    auto job = d_.store.getJob(req.principal, id);
    if (!job.ok()) return ApiResponse::error(job.error());
    JsonObject event = new Poco::JSON::Object;
    event->set("state", job->state);
    publishJobEvent(d_, id, "job.finished", event);
    return ApiResponse::json(jobToJson(*job, false));
  }

 private:
  const ApiDeps& d_;
};

// POST /v1/jobs/{id}/pause and /resume: no new bookings while paused; running tasks finish.
class PauseJob final : public Endpoint {
 public:
  PauseJob(const ApiDeps& d, bool paused) : d_(d), paused_(paused) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string& id = req.path_params.at("id");
    if (Status s = requireUuid(id, "job id"); !s.ok()) return ApiResponse::error(s.error());
    Status s = d_.store.setPaused(req.principal, id, paused_);
    if (!s.ok()) return ApiResponse::error(s.error());
    apiLog().info("job " + id + (paused_ ? " paused" : " resumed"));
    // Either way the dispatcher's queue must be reloaded (it holds or lacks the job's tasks).
    d_.dispatcher.triggerQueued();
    auto job = d_.store.getJob(req.principal, id);
    if (!job.ok()) return ApiResponse::error(job.error());
    JsonObject event = new Poco::JSON::Object;
    event->set("paused", paused_);
    publishJobEvent(d_, id, paused_ ? "job.paused" : "job.resumed", event);
    return ApiResponse::json(jobToJson(*job, false));
  }

 private:
  const ApiDeps& d_;
  bool paused_;
};

// POST /v1/jobs/{id}/tasks/{index}/requeue: the task goes back to pending with a fresh attempt
// budget; a running attempt is stopped (through the worker's heartbeat) and billed once.
class RequeueTask final : public Endpoint {
 public:
  explicit RequeueTask(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string& id = req.path_params.at("id");
    if (Status s = requireUuid(id, "job id"); !s.ok()) return ApiResponse::error(s.error());
    const std::string& text = req.path_params.at("index");
    int index = -1;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || index < 0) {
      return ApiResponse::error(invalidArgument("task index '" + text + "' is not a number"));
    }
    auto stopped = d_.store.requeueTask(req.principal, id, index);
    if (!stopped.ok()) return ApiResponse::error(stopped.error());
    apiLog().info("job " + id + " task " + std::to_string(index) + " requeued" +
                  (stopped->empty() ? "" : "; attempt " + *stopped + " will be stopped"));
    d_.dispatcher.trigger();
    JsonObject event = new Poco::JSON::Object;
    event->set("index", index);
    publishJobEvent(d_, id, "task.requeued", event);
    auto job = d_.store.getJob(req.principal, id);
    if (!job.ok()) return ApiResponse::error(job.error());
    JsonObject out = jobToJson(*job, false);
    if (!stopped->empty()) out->set("stopped_attempt", *stopped);
    return ApiResponse::json(out);
  }

 private:
  const ApiDeps& d_;
};

class GetAccount final : public Endpoint {
 public:
  explicit GetAccount(const ApiDeps& d) : d_(d) {}
  ApiResponse handle(const ApiRequest& req) override {
    const std::string& id = req.path_params.at("id");
    if (!isValidPrincipalId(id)) {
      return ApiResponse::error(invalidArgument("'" + id + "' is not a principal id"));
    }
    auto account = d_.store.account(id);
    if (!account.ok()) return ApiResponse::error(account.error());
    return ApiResponse::json(accountToJson(*account));
  }

 private:
  const ApiDeps& d_;
};

}  // namespace

void publishJobEvent(const ApiDeps& deps, const std::string& job_id, const std::string& type,
                     const JsonObject& data) {
  Status s = deps.events.publish(job_id, type, data);
  if (!s.ok()) apiLog().warn("event " + type + " of job " + job_id + " lost: " + s.error().message);
}

// Worker endpoints live in worker_api.cpp.
void addWorkerRoutes(Router& router, const ApiDeps& deps);

Router makeSchedulerRouter(const ApiDeps& deps) {
  Router r;
  r.add("POST", "/v1/jobs", Auth::kSigned, std::make_shared<SubmitJob>(deps));
  r.add("GET", "/v1/jobs", Auth::kSigned, std::make_shared<ListJobs>(deps));
  r.add("GET", "/v1/jobs/{id}", Auth::kSigned, std::make_shared<GetJob>(deps));
  r.add("POST", "/v1/jobs/{id}/cancel", Auth::kSigned, std::make_shared<CancelJob>(deps));
  r.add("POST", "/v1/jobs/{id}/pause", Auth::kSigned, std::make_shared<PauseJob>(deps, true));
  r.add("POST", "/v1/jobs/{id}/resume", Auth::kSigned, std::make_shared<PauseJob>(deps, false));
  r.add("POST", "/v1/jobs/{id}/tasks/{index}/requeue", Auth::kSigned,
        std::make_shared<RequeueTask>(deps));
  r.add("GET", "/v1/jobs/{id}/events", Auth::kSigned, std::make_shared<JobEventStream>(deps));
  r.add("GET", "/v1/accounts/{id}", Auth::kSigned, std::make_shared<GetAccount>(deps));
  addWorkerRoutes(r, deps);
  return r;
}

}  // namespace dcloud::scheduler
