// One generic runner for tests/scenarios/*.json: a cluster of offers and a queue of tasks go into
// planBookings; the bookings (in order) and optionally the offers' remaining free resources must
// match the file. File format (prices and reputations are decimal credit strings):
//   {"description": "...",
//    "offers": [{"worker": "w1", "cores": 4, "memory_mb": 8192, "gpus": 0, "disk_mb": 0,
//                "free": {"cores": 2, ...}, "price_core_hour": "0.5", "price_gpu_hour": "0",
//                "reputation": "0"}],
//    "tasks": [{"id": "t1", "owner": "alice", "cores": 1, "memory_mb": 1024, "gpus": 0,
//               "disk_mb": 0, "max_price": "1", "min_reputation": "0"}],
//    "expected": [{"task": "t1", "worker": "w1", "price": "0.5"}],
//    "expected_free": {"w1": {"cores": 3}}}
// Optional, for fair share (all absent means PlanOptions' defaults): per task "job", "priority"
// and "enqueued_at_ms"; at the top level
//   "options": {"now_ms": 0, "ageing_step_ms": 60000, "owner_weights": {"bob": "2"},
//               "owner_usage": {"alice": {"cores": 4}}, "owner_running": {"alice": 2},
//               "owner_limits": {"alice": 3}, "default_owner_limit": 0,
//               "keep_gpu_hosts_free": true}
// (weights are decimal strings, like prices).
// The deeper job model: offers may carry "gpu_model", "gpu_memory_mb", "gpu_throughput" and
// "price_disk_gb_month"; tasks "gpu_model", "gpu_memory_mb", "min_gpu_throughput",
// "excluded_workers" (a blocklist), "replicas" (a backup: "disk_mb" on that many distinct
// providers, "max_price" per GB-month) and "preemptible"; an expected booking "replica": true.
// Preemption: "running" [{"task", "worker", "priority", "preemptible", "cores", ...}] and
// "expected_preemptions" [{"task", "worker", "victims": [...]}], planned after the bookings on
// the offers as they left them, for the tasks left waiting (highest priority first).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/json.h"
#include "common/money.h"
#include "scheduler/core/matching.h"
#include "tests/support/test_env.h"

namespace dcloud::core {
namespace {

std::filesystem::path scenarioDir() {
  return std::filesystem::path(dcloud::testing::sourceDir()) / "tests" / "scenarios";
}

std::vector<std::string> scenarioNames() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(scenarioDir(), ec)) {
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The runner fails loudly on a malformed file rather than skipping fields.
template <typename T>
T need(Result<T> r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}

std::int64_t intOr(const JsonObject& o, const std::string& key, std::int64_t fallback) {
  return need(getOptionalInt(o, key), key).value_or(fallback);
}

Micros moneyOr(const JsonObject& o, const std::string& key, const std::string& fallback) {
  const std::string text = need(getOptionalString(o, key), key).value_or(fallback);
  return need(parseMicros(text), key);
}

Resources resources(const JsonObject& o, const Resources& fallback) {
  Resources r;
  r.cores = static_cast<int>(intOr(o, "cores", fallback.cores));
  r.memory_mb = intOr(o, "memory_mb", fallback.memory_mb);
  r.gpus = static_cast<int>(intOr(o, "gpus", fallback.gpus));
  r.disk_mb = intOr(o, "disk_mb", fallback.disk_mb);
  return r;
}

std::vector<JsonObject> objects(const JsonObject& o, const std::string& key) {
  std::vector<JsonObject> out;
  auto arr = need(getOptionalArray(o, key), key);
  if (!arr) return out;
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto item = (*arr)->getObject(static_cast<unsigned>(i));
    if (!item) throw std::runtime_error(key + "[" + std::to_string(i) + "] is not an object");
    out.push_back(item);
  }
  return out;
}

std::map<std::string, JsonObject> objectMap(const JsonObject& o, const std::string& key) {
  std::map<std::string, JsonObject> out;
  auto m = need(getOptionalObject(o, key), key);
  if (!m) return out;
  for (const std::string& name : (*m)->getNames()) {
    JsonObject item = (*m)->getObject(name);
    if (!item) throw std::runtime_error(key + "." + name + " is not an object");
    out[name] = item;
  }
  return out;
}

// The values of an object of integers, e.g. {"alice": 2}.
std::map<std::string, int> intMap(const JsonObject& o, const std::string& key) {
  std::map<std::string, int> out;
  auto m = need(getOptionalObject(o, key), key);
  if (!m) return out;
  for (const std::string& name : (*m)->getNames()) {
    out[name] = static_cast<int>(need(getInt(*m, name), key + "." + name));
  }
  return out;
}

PlanOptions planOptions(const JsonObject& doc) {
  PlanOptions out;
  auto o = need(getOptionalObject(doc, "options"), "options");
  if (!o) return out;
  const JsonObject& opt = *o;
  Status fields = requireOnlyFields(
      opt, {"now_ms", "ageing_step_ms", "owner_weights", "owner_usage", "owner_running",
            "owner_limits", "default_owner_limit", "keep_gpu_hosts_free"});
  if (!fields.ok()) throw std::runtime_error("options: " + fields.error().message);
  out.now_ms = intOr(opt, "now_ms", out.now_ms);
  out.ageing_step_ms = intOr(opt, "ageing_step_ms", out.ageing_step_ms);
  auto weights = need(getOptionalObject(opt, "owner_weights"), "owner_weights");
  if (weights) {
    for (const std::string& name : (*weights)->getNames()) {
      out.owner_weights[name] =
          static_cast<double>(moneyOr(*weights, name, "1")) / kMicrosPerCredit;
    }
  }
  for (const auto& [name, r] : objectMap(opt, "owner_usage")) {
    out.owner_usage[name] = resources(r, {0, 0, 0, 0});
  }
  out.owner_running = intMap(opt, "owner_running");
  out.owner_limits = intMap(opt, "owner_limits");
  out.default_owner_limit =
      static_cast<int>(intOr(opt, "default_owner_limit", out.default_owner_limit));
  out.keep_gpu_hosts_free = need(getOptionalBool(opt, "keep_gpu_hosts_free"), "keep_gpu_hosts_free")
                                .value_or(out.keep_gpu_hosts_free);
  return out;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, BookingsMatch) {
  const auto path = scenarioDir() / (GetParam() + ".json");
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parseJsonObject(text.str());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const JsonObject& doc = *parsed;
  ASSERT_TRUE(requireOnlyFields(doc, {"description", "offers", "tasks", "options", "expected",
                                      "expected_free", "running", "expected_preemptions"})
                  .ok());
  SCOPED_TRACE(need(getOptionalString(doc, "description"), "description").value_or(""));

  std::vector<Offer> offers;
  std::vector<QueuedTask> queue;
  std::vector<JsonObject> expected;
  std::vector<RunningTask> running;
  std::vector<JsonObject> expected_preemptions;
  PlanOptions options;
  try {
    options = planOptions(doc);
    for (const JsonObject& o : objects(doc, "offers")) {
      Offer offer;
      offer.worker_id = need(getString(o, "worker"), "worker");
      offer.provider = need(getOptionalString(o, "provider"), "provider").value_or("p");
      offer.capacity = resources(o, {1, 1024, 0, 0});
      auto free = need(getOptionalObject(o, "free"), "free");
      offer.free = free ? resources(*free, offer.capacity) : offer.capacity;
      offer.price_core_hour = moneyOr(o, "price_core_hour", "0");
      offer.price_gpu_hour = moneyOr(o, "price_gpu_hour", "0");
      offer.reputation = moneyOr(o, "reputation", "0");
      offer.gpu_model = need(getOptionalString(o, "gpu_model"), "gpu_model").value_or("");
      offer.gpu_memory_mb = intOr(o, "gpu_memory_mb", 0);
      offer.gpu_throughput = intOr(o, "gpu_throughput", 0);
      offer.price_disk_gb_month = moneyOr(o, "price_disk_gb_month", "0");
      offers.push_back(offer);
    }
    for (const JsonObject& t : objects(doc, "tasks")) {
      QueuedTask q;
      q.task_id = need(getString(t, "id"), "id");
      q.owner = need(getString(t, "owner"), "owner");
      q.demand.need = resources(t, {1, 1024, 0, 0});
      q.demand.max_price = moneyOr(t, "max_price", "1");
      q.demand.min_reputation = moneyOr(t, "min_reputation", "0");
      q.job_id = need(getOptionalString(t, "job"), "job").value_or("");
      q.priority = static_cast<int>(intOr(t, "priority", 0));
      q.enqueued_at_ms = intOr(t, "enqueued_at_ms", 0);
      q.demand.gpu_model = need(getOptionalString(t, "gpu_model"), "gpu_model").value_or("");
      q.demand.gpu_memory_mb = intOr(t, "gpu_memory_mb", 0);
      q.demand.min_gpu_throughput = intOr(t, "min_gpu_throughput", 0);
      q.demand.excluded_workers =
          need(getOptionalStringList(t, "excluded_workers"), "excluded_workers")
              .value_or(std::vector<std::string>{});
      q.replicas = static_cast<int>(intOr(t, "replicas", 0));
      q.preemptible = need(getOptionalBool(t, "preemptible"), "preemptible").value_or(false);
      if (q.replicas > 0) q.demand.need = {0, 0, 0, intOr(t, "disk_mb", 0)};
      queue.push_back(q);
    }
    for (const JsonObject& r : objects(doc, "running")) {
      RunningTask rt;
      rt.task_id = need(getString(r, "task"), "task");
      rt.worker_id = need(getString(r, "worker"), "worker");
      rt.priority = static_cast<int>(intOr(r, "priority", 0));
      rt.preemptible = need(getOptionalBool(r, "preemptible"), "preemptible").value_or(false);
      rt.need = resources(r, {1, 1024, 0, 0});
      running.push_back(rt);
    }
    expected_preemptions = objects(doc, "expected_preemptions");
    expected = objects(doc, "expected");
  } catch (const std::exception& e) {
    FAIL() << "malformed scenario: " << e.what();
  }
  ASSERT_FALSE(offers.empty() && queue.empty()) << "an empty scenario tests nothing";

  std::vector<Booking> got = planBookings(queue, offers, options);
  std::string got_text;
  for (const auto& b : got) {
    got_text += b.task_id + "->" + b.worker_id + "@" + formatMicros(b.price) + " ";
  }
  ASSERT_EQ(got.size(), expected.size()) << "got: " << got_text;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("booking " + std::to_string(i) + "; got: " + got_text);
    EXPECT_EQ(got[i].task_id, *getString(expected[i], "task"));
    EXPECT_EQ(got[i].worker_id, *getString(expected[i], "worker"));
    auto price = getOptionalString(expected[i], "price");
    ASSERT_TRUE(price.ok());
    if (price->has_value()) {
      EXPECT_EQ(formatMicros(got[i].price), formatMicros(*parseMicros(**price)));
    }
    auto replica = getOptionalBool(expected[i], "replica");
    ASSERT_TRUE(replica.ok());
    EXPECT_EQ(got[i].replica, replica->value_or(false));
  }
  if (!running.empty() || !expected_preemptions.empty()) {
    std::vector<QueuedTask> left;
    for (const auto& t : queue) {
      if (std::none_of(got.begin(), got.end(),
                       [&](const Booking& b) { return b.task_id == t.task_id; })) {
        left.push_back(t);
      }
    }
    std::stable_sort(left.begin(), left.end(),
                     [](const auto& a, const auto& b) { return a.priority > b.priority; });
    auto plan = planPreemptions(left, running, offers);
    std::string plan_text;
    for (const auto& p : plan) {
      plan_text += p.booking.task_id + "->" + p.booking.worker_id + " (";
      for (const auto& v : p.victims) plan_text += v + " ";
      plan_text += ") ";
    }
    ASSERT_EQ(plan.size(), expected_preemptions.size()) << "got: " << plan_text;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      SCOPED_TRACE("preemption " + std::to_string(i) + "; got: " + plan_text);
      EXPECT_EQ(plan[i].booking.task_id, *getString(expected_preemptions[i], "task"));
      EXPECT_EQ(plan[i].booking.worker_id, *getString(expected_preemptions[i], "worker"));
      auto victims = getOptionalStringList(expected_preemptions[i], "victims");
      ASSERT_TRUE(victims.ok());
      EXPECT_EQ(plan[i].victims, victims->value_or(std::vector<std::string>{}));
    }
  }
  auto free = getOptionalObject(doc, "expected_free");
  ASSERT_TRUE(free.ok());
  if (free->has_value()) {
    for (const std::string& worker : (**free)->getNames()) {
      auto it = std::find_if(offers.begin(), offers.end(),
                             [&](const Offer& o) { return o.worker_id == worker; });
      ASSERT_NE(it, offers.end()) << "expected_free names unknown worker " << worker;
      JsonObject want = (**free)->getObject(worker);
      ASSERT_TRUE(want);
      Resources w = resources(want, it->free);
      EXPECT_EQ(it->free.cores, w.cores) << worker;
      EXPECT_EQ(it->free.memory_mb, w.memory_mb) << worker;
      EXPECT_EQ(it->free.gpus, w.gpus) << worker;
      EXPECT_EQ(it->free.disk_mb, w.disk_mb) << worker;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, ::testing::ValuesIn(scenarioNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A missing or emptied scenario folder must not pass silently.
TEST(ScenarioFilesTest, AtLeastFiveScenariosExist) {
  EXPECT_GE(scenarioNames().size(), 5u);
}

}  // namespace
}  // namespace dcloud::core
