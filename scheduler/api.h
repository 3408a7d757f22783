#pragma once
// The scheduler's REST API: users submit, list, inspect and cancel jobs and read accounts;
// workers register, heartbeat, long-poll for leases, report progress and complete with a signed
// usage receipt. Every route is signed (DCLOUD-ED25519); the principal is the caller.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/random.h"
#include "scheduler/core/job_spec.h"
#include "scheduler/dispatcher.h"
#include "scheduler/gateway_admin.h"
#include "scheduler/job_events.h"
#include "scheduler/store.h"
#include "scheduler/worker_signals.h"

namespace dcloud::scheduler {

struct ApiConfig {
  std::string s3_endpoint;  // handed to workers with their credentials
  std::string s3_region = "us-east-1";
  std::int64_t heartbeat_interval_millis = 2000;
  std::int64_t heartbeat_timeout_millis = 10'000;
  std::int64_t lease_wait_max_millis = 20'000;
  std::int64_t lost_lease_grace_seconds = 30;
  core::SpecLimits limits;
};

struct ApiDeps {
  ApiConfig config;
  SchedulerStore& store;
  WorkerSignals& signals;
  Dispatcher& dispatcher;
  GatewayAdmin& gateway;
  const Clock& clock;
  Random& random;
  MetricsRegistry& metrics;
  JobEvents& events;
};

// Publishes a live event of a job; a failure is logged and otherwise ignored (events are a
// convenience that Redis may lose).
void publishJobEvent(const ApiDeps& deps, const std::string& job_id, const std::string& type,
                     const JsonObject& data);

Router makeSchedulerRouter(const ApiDeps& deps);

// Ids in paths and bodies are checked before they reach SQL casts (a bad one is a 400, not a 500).
bool isUuid(const std::string& s);

}  // namespace dcloud::scheduler
