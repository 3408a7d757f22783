#include "scheduler/api.h"

#include <algorithm>

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
    // Price discovery before anything is written: a bid nobody accepts is refused with the
    // lowest price that would be accepted now.
    auto offers = d_.store.loadOffers();
    if (!offers.ok()) return ApiResponse::error(offers.error());
    core::TaskDemand demand{spec.resources, spec.max_price, spec.min_reputation};
    core::Placeability placeable = core::checkPlaceable(demand, *offers);
    if (placeable.kind == core::Placeability::Kind::kTooLow) {
      return ApiResponse::error(Error{ErrorCode::kPaymentRequired,
                                      "no provider accepts " + formatMicros(spec.max_price) +
                                          " per task-hour; the lowest "
                                          "acceptable price now is " +
                                          formatMicros(placeable.acceptable_price),
                                      "too-low", formatMicros(placeable.acceptable_price)});
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
    job.hold = core::maxTaskCost(spec) * static_cast<Micros>(job.tasks.size()) *
               static_cast<Micros>(spec.max_attempts);
    Status created = d_.store.createJob(job);
    if (!created.ok()) return ApiResponse::error(created.error());
    apiLog().info("job " + job.id + " submitted by " + req.principal.substr(0, 16) + ": " +
                  core::jobKindName(spec.kind) + ", " + std::to_string(job.tasks.size()) +
                  " task(s), escrow " + formatMicros(job.hold));
    d_.metrics.counter("dcloud_scheduler_jobs_submitted_total", "Jobs accepted").inc();
    d_.dispatcher.trigger();
    auto view = d_.store.getJob(req.principal, job.id);
    if (!view.ok()) return ApiResponse::error(view.error());
    JsonObject out = jobToJson(*view, false);
    if (placeable.kind == core::Placeability::Kind::kNoOffer) {
      out->set("warning", "no registered worker fits this job now; it waits for one");
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
    auto jobs = d_.store.listJobs(req.principal, limit);
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
    return ApiResponse::json(jobToJson(*job, false));
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

// Worker endpoints live in worker_api.cpp.
void addWorkerRoutes(Router& router, const ApiDeps& deps);

Router makeSchedulerRouter(const ApiDeps& deps) {
  Router r;
  r.add("POST", "/v1/jobs", Auth::kSigned, std::make_shared<SubmitJob>(deps));
  r.add("GET", "/v1/jobs", Auth::kSigned, std::make_shared<ListJobs>(deps));
  r.add("GET", "/v1/jobs/{id}", Auth::kSigned, std::make_shared<GetJob>(deps));
  r.add("POST", "/v1/jobs/{id}/cancel", Auth::kSigned, std::make_shared<CancelJob>(deps));
  r.add("GET", "/v1/accounts/{id}", Auth::kSigned, std::make_shared<GetAccount>(deps));
  addWorkerRoutes(r, deps);
  return r;
}

}  // namespace dcloud::scheduler
