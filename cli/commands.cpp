#include "cli/commands.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/money.h"
#include "common/s3_client.h"

namespace dcloud::cli {

namespace {

const char* kUsage = R"(usage: dcloud COMMAND [options]

Identity
  keygen [--out FILE]              make an ed25519 key pair (mode 0600); default $DCLOUD_KEY
  whoami                           print your principal id

Jobs
  submit render FILE.blend --frames A-B [--chunk N] [--max-price P] [--min-reputation R]
                [--cores N] [--memory-mb M] [--timeout S] [--name NAME] [--bid-cap P]
  submit command [--max-price P] [--cores N] [--memory-mb M] [--timeout S] -- CMD ARGS...
  submit train --gpus N [--gpu-model M] [--gpu-memory-mb MB] [--min-gpu-throughput GFLOPS]
               [--checkpoint s3://BUCKET/PREFIX] [options as for command] -- CMD ARGS...
  submit backup --capacity-gb G --replicas R --days D --max-price P_PER_GB_MONTH
  submit options for every kind: [--after JOB,JOB] [--task-after JOB[:INDEX],...]
               [--priority N] [--preemptible] [--max-attempts N] [--retry-backoff S]
               [--retry-backoff-max S] [--blocklist-after N]
  jobs [--json]                    your jobs, newest first
  job ID [--json]                  one job with its tasks, frames and bill
  wait ID [--json]                 follow a job until it ends (progress bar on a terminal)
  logs ID [-f|--follow] [--json]   the job's events and every task's output lines
  cancel ID [--json]               cancel a job
  pause ID | resume ID [--json]    stop booking a job's tasks (running ones finish) / go on
  requeue ID TASK_INDEX [--json]   run one task again with fresh attempts (stops a running one)

Accounts
  balance [--json]                 your balance, escrow held and reputation
  reputation ID [--json]           anyone's reputation

Environment: DCLOUD_SCHEDULER_URL, DCLOUD_S3_ENDPOINT, DCLOUD_KEY (see scripts/cluster env).
Prices are credits per task-hour (cores x worker's core price + GPUs x GPU price).
)";

struct Ctx {
  const CliEnv& env;
  std::ostream& out;
  std::ostream& err;
};

int fail(const Ctx& c, const std::string& message) {
  c.err << "dcloud: " << message << "\n";
  return 1;
}

int failWith(const Ctx& c, const Error& e) {
  std::string msg = e.message;
  if (e.reason == "too-low" && !e.hint.empty()) {
    msg += " (raise --max-price to at least " + e.hint + ", or pass --bid-cap)";
  }
  return fail(c, msg);
}

std::string str(const JsonObject& o, const std::string& key) {
  auto v = getOptionalString(o, key);
  return v.ok() ? v->value_or("") : "";
}

std::int64_t num(const JsonObject& o, const std::string& key) {
  auto v = getOptionalInt(o, key);
  return v.ok() ? v->value_or(0) : 0;
}

void printJson(const Ctx& c, const JsonObject& o) {
  std::ostringstream s;
  o->stringify(s, 2);
  c.out << s.str() << "\n";
}

Result<KeyPair> loadKey(const Ctx& c) {
  auto key = KeyPair::load(c.env.key_file);
  if (!key.ok() && key.error().code == ErrorCode::kNotFound) {
    return notFound("no key at " + c.env.key_file + "; run `dcloud keygen` or set DCLOUD_KEY");
  }
  return key;
}

int keygen(const Ctx& c, const Args& a) {
  const std::string path = a.get("out").value_or(c.env.key_file);
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  KeyPair kp = KeyPair::generate();
  if (Status s = kp.save(path); !s.ok()) return fail(c, s.error().message);
  c.out << "key: " << path << "\nid:  " << kp.id() << "\n";
  return 0;
}

int whoami(const Ctx& c) {
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  c.out << key->id() << "\n";
  return 0;
}

Status applyCommonSpec(const Args& a, JsonObject& body) {
  if (auto v = a.get("name")) body->set("name", *v);
  body->set("max_price", a.get("max-price").value_or("1"));
  if (auto v = a.get("min-reputation")) body->set("min_reputation", *v);
  JsonObject res = new Poco::JSON::Object;
  auto cores = a.getInt("cores", 1);
  auto mem = a.getInt("memory-mb", 2048);
  auto gpus = a.getInt("gpus", 0);
  auto timeout = a.getInt("timeout", 600);
  if (!cores.ok()) return cores.error();
  if (!mem.ok()) return mem.error();
  if (!gpus.ok()) return gpus.error();
  if (!timeout.ok()) return timeout.error();
  res->set("cores", *cores);
  res->set("memory_mb", *mem);
  res->set("gpus", *gpus);
  body->set("resources", res);
  body->set("timeout_seconds", *timeout);
  for (auto [flag, field] : {std::pair<const char*, const char*>{"priority", "priority"},
                             {"max-attempts", "max_attempts"},
                             {"retry-backoff", "retry_backoff_seconds"},
                             {"retry-backoff-max", "retry_backoff_max_seconds"},
                             {"blocklist-after", "blocklist_after"},
                             {"gpu-memory-mb", "gpu_memory_mb"},
                             {"min-gpu-throughput", "min_gpu_throughput"}}) {
    if (!a.get(flag)) continue;
    auto v = a.getInt(flag, 0);
    if (!v.ok()) return v.error();
    body->set(field, *v);
  }
  if (a.has("preemptible")) body->set("preemptible", true);
  if (auto v = a.get("gpu-model")) body->set("gpu_model", *v);
  auto split = [](const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  };
  if (auto v = a.get("after")) {
    Poco::JSON::Array::Ptr after = new Poco::JSON::Array;
    for (const auto& id : split(*v)) after->add(id);
    body->set("after", after);
  }
  if (auto v = a.get("task-after")) {
    // JOB: frame by frame (task i after task i of JOB); JOB:N: every task after task N of JOB.
    Poco::JSON::Array::Ptr deps = new Poco::JSON::Array;
    for (const auto& item : split(*v)) {
      JsonObject d = new Poco::JSON::Object;
      const auto colon = item.find(':');
      d->set("job", item.substr(0, colon));
      if (colon != std::string::npos) {
        try {
          d->set("task", std::stoi(item.substr(colon + 1)));
        } catch (const std::exception&) {
          return invalidArgument("--task-after " + item + ": the task index is not a number");
        }
      }
      deps->add(d);
    }
    body->set("task_after", deps);
  }
  return okStatus();
}

// Posts the job; when the bid is too low and a cap allows it, raises the bid to the acceptable
// price and tries again.
Result<JsonObject> postJob(const Ctx& c, const ApiClient& api, JsonObject body, const Args& a) {
  auto r = api.call("POST", "/v1/jobs", body);
  if (!r.ok() && r.error().reason == "too-low" && a.get("bid-cap")) {
    auto cap = parseMicros(*a.get("bid-cap"));
    auto acceptable = parseMicros(r.error().hint);
    if (cap.ok() && acceptable.ok() && *acceptable <= *cap) {
      c.err << "bid raised to " << r.error().hint << " (cap " << *a.get("bid-cap") << ")\n";
      body->set("max_price", r.error().hint);
      return api.call("POST", "/v1/jobs", body);
    }
  }
  return r;
}

int submit(const Ctx& c, const Args& a) {
  if (a.positional().size() < 2) return fail(c, "submit needs a kind: render or command");
  const std::string kind = a.positional()[1];
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  SystemClock& clock = SystemClock::instance();
  SecureRandom& random = SecureRandom::instance();
  JsonObject body = new Poco::JSON::Object;
  body->set("kind", kind);
  if (Status s = applyCommonSpec(a, body); !s.ok()) return failWith(c, s.error());
  if (kind == "render") {
    if (a.positional().size() < 3) return fail(c, "submit render needs a .blend file");
    const std::string file = a.positional()[2];
    auto frames = a.get("frames");
    if (!frames) return fail(c, "submit render needs --frames A-B");
    body->set("frames", *frames);
    auto chunk = a.getInt("chunk", 1);
    if (!chunk.ok()) return failWith(c, chunk.error());
    body->set("chunk", *chunk);
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(c, "cannot read " + file);
    Sha256 hash;
    char buf[1 << 16];
    while (in) {
      in.read(buf, sizeof buf);
      hash.update(buf, static_cast<std::size_t>(in.gcount()));
    }
    // The scene goes to the owner's bucket, named by content so a resubmit uploads nothing.
    const std::string bucket = "u-" + key->id().substr(0, 16);
    const std::string object = "inputs/" + hash.finishHex() + ".blend";
    S3Client s3(c.env.s3_endpoint, *key, clock, random);
    if (Status s = s3.createBucket(bucket); !s.ok()) return fail(c, s.error().message);
    auto there = s3.exists(bucket, object);
    if (!there.ok()) return fail(c, there.error().message);
    if (!*there) {
      auto sent = s3.putFile(bucket, object, file);
      if (!sent.ok()) return fail(c, sent.error().message);
      c.err << "uploaded " << file << " (" << *sent << " bytes) to s3://" << bucket << "/" << object
            << "\n";
    }
    body->set("scene", "s3://" + bucket + "/" + object);
  } else if (kind == "command") {
    if (a.rest().empty()) return fail(c, "submit command needs a command after --");
    Poco::JSON::Array::Ptr cmd = new Poco::JSON::Array;
    for (const auto& s : a.rest()) cmd->add(s);
    body->set("command", cmd);
  } else if (kind == "train") {
    if (a.rest().empty()) return fail(c, "submit train needs a command after --");
    Poco::JSON::Array::Ptr cmd = new Poco::JSON::Array;
    for (const auto& s : a.rest()) cmd->add(s);
    body->set("command", cmd);
    if (auto v = a.get("checkpoint")) body->set("checkpoint_prefix", *v);
  } else if (kind == "backup") {
    // A storage contract: no process, so no compute resources or timeout.
    body->remove("resources");
    body->remove("timeout_seconds");
    for (auto [flag, field] : {std::pair<const char*, const char*>{"capacity-gb", "capacity_gb"},
                               {"replicas", "replicas"},
                               {"days", "duration_days"}}) {
      auto v = a.getInt(flag, 0);
      if (!v.ok()) return failWith(c, v.error());
      if (!a.get(flag)) return fail(c, std::string("submit backup needs --") + flag);
      body->set(field, *v);
    }
  } else {
    return fail(c, "unknown job kind '" + kind + "' (render, command, train or backup)");
  }
  ApiClient api(c.env.scheduler_url, &*key, clock, random);
  auto r = postJob(c, api, body, a);
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json")) {
    printJson(c, *r);
  } else {
    c.out << str(*r, "id") << "\n";
    const std::string warning = str(*r, "warning");
    if (!warning.empty()) c.err << "warning: " << warning << "\n";
  }
  return 0;
}

std::string counts(const JsonObject& job) {
  auto byState = getOptionalObject(job, "tasks_by_state");
  if (!byState.ok() || !byState->has_value()) return "";
  const JsonObject& b = **byState;
  std::ostringstream s;
  s << num(b, "succeeded") << "/" << num(b, "total") << " done";
  if (num(b, "running") + num(b, "leased"))
    s << ", " << num(b, "running") + num(b, "leased") << " running";
  if (num(b, "pending")) s << ", " << num(b, "pending") << " queued";
  if (num(b, "failed")) s << ", " << num(b, "failed") << " failed";
  if (num(b, "cancelled")) s << ", " << num(b, "cancelled") << " cancelled";
  return s.str();
}

int jobs(const Ctx& c, const Args& a) {
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  ApiClient api(c.env.scheduler_url, &*key, SystemClock::instance(), SecureRandom::instance());
  auto r = api.call("GET", "/v1/jobs?limit=" + a.get("limit").value_or("50"));
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json")) {
    printJson(c, *r);
    return 0;
  }
  auto list = getOptionalArray(*r, "jobs");
  c.out << std::left << std::setw(38) << "ID" << std::setw(9) << "KIND" << std::setw(11) << "STATE"
        << std::setw(30) << "TASKS"
        << "COST\n";
  if (list.ok() && list->has_value()) {
    for (std::size_t i = 0; i < (**list)->size(); ++i) {
      auto j = (**list)->getObject(static_cast<unsigned>(i));
      c.out << std::left << std::setw(38) << str(j, "id") << std::setw(9) << str(j, "kind")
            << std::setw(11) << str(j, "state") << std::setw(30) << counts(j) << str(j, "cost")
            << "\n";
    }
  }
  return 0;
}

Result<JsonObject> fetchJob(const Ctx& c, const KeyPair& key, const std::string& id) {
  ApiClient api(c.env.scheduler_url, &key, SystemClock::instance(), SecureRandom::instance());
  return api.call("GET", "/v1/jobs/" + id);
}

void printJobDetail(const Ctx& c, const JsonObject& j) {
  c.out << "job      " << str(j, "id") << "\n"
        << "kind     " << str(j, "kind")
        << (str(j, "name").empty() ? "" : "  (" + str(j, "name") + ")") << "\n"
        << "state    " << str(j, "state") << "  (" << counts(j) << ")\n"
        << "output   " << str(j, "output") << "\n"
        << "bid      " << str(j, "max_price")
        << (str(j, "kind") == "backup" ? " per GB-month" : " per task-hour") << ", min reputation "
        << str(j, "min_reputation") << "\n";
  auto paused = getOptionalBool(j, "paused");
  if (paused.ok() && paused->value_or(false)) c.out << "paused   yes (no new bookings)\n";
  if (num(j, "waiting_for_jobs") > 0) {
    c.out << "waiting  for " << num(j, "waiting_for_jobs") << " job(s) to succeed\n";
  }
  if (!str(j, "wait_reason").empty()) c.out << "waiting  " << str(j, "wait_reason") << "\n";
  auto placements = getOptionalArray(j, "placements");
  if (placements.ok() && placements->has_value()) {
    c.out << "placed\n";
    for (std::size_t i = 0; i < (**placements)->size(); ++i) {
      auto p = (**placements)->getObject(static_cast<unsigned>(i));
      c.out << "  " << str(p, "provider").substr(0, 16) << "  worker " << str(p, "worker_id")
            << "  " << num(p, "capacity_mb") << " MB at " << str(p, "price_gb_month")
            << "/GB-month until " << str(p, "expires_at") << "\n";
    }
  }
  auto tasks = getOptionalArray(j, "tasks");
  if (tasks.ok() && tasks->has_value()) {
    c.out << "tasks\n";
    for (std::size_t i = 0; i < (**tasks)->size(); ++i) {
      auto t = (**tasks)->getObject(static_cast<unsigned>(i));
      c.out << "  #" << std::left << std::setw(4) << num(t, "index");
      if (str(j, "kind") == "render") {
        c.out << "frames " << std::setw(10)
              << (std::to_string(num(t, "frame_first")) + "-" +
                  std::to_string(num(t, "frame_last")));
      }
      c.out << std::setw(10) << str(t, "state") << "attempts " << num(t, "attempts");
      if (!str(t, "cost").empty()) c.out << "  cost " << str(t, "cost");
      if (num(t, "waiting_for_tasks") > 0) {
        c.out << "  waiting for " << num(t, "waiting_for_tasks") << " task(s)";
      }
      if (num(t, "not_before_ms") > 0) c.out << "  retry backoff";
      if (!str(t, "error").empty()) c.out << "  error: " << str(t, "error");
      c.out << "\n";
      auto outputs = getOptionalStringList(t, "outputs");
      if (outputs.ok() && outputs->has_value()) {
        for (const auto& o : **outputs) c.out << "        " << o << "\n";
      }
    }
  }
  c.out << "bill     " << str(j, "cost") << " credits charged, " << str(j, "settled")
        << " settled on the ledger\n";
}

int job(const Ctx& c, const Args& a) {
  if (a.positional().size() < 2) return fail(c, "job needs an ID");
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  auto r = fetchJob(c, *key, a.positional()[1]);
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json"))
    printJson(c, *r);
  else
    printJobDetail(c, *r);
  return 0;
}

int waitJob(const Ctx& c, const Args& a) {
  if (a.positional().size() < 2) return fail(c, "wait needs an ID");
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  const std::string id = a.positional()[1];
  std::string last_line;
  int transient = 0;
  while (true) {
    auto r = fetchJob(c, *key, id);
    if (!r.ok()) {
      if (r.error().code == ErrorCode::kUnavailable && ++transient < 30) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      return failWith(c, r.error());
    }
    transient = 0;
    const JsonObject& j = *r;
    const std::string state = str(j, "state");
    const bool done = state == "succeeded" || state == "failed" || state == "cancelled";
    auto byState = getOptionalObject(j, "tasks_by_state");
    std::int64_t total = 0, finished = 0;
    if (byState.ok() && byState->has_value()) {
      total = num(**byState, "total");
      finished =
          num(**byState, "succeeded") + num(**byState, "failed") + num(**byState, "cancelled");
    }
    if (!a.has("json")) {
      std::ostringstream line;
      if (c.env.terminal) {
        const int width = 30;
        const int filled = total ? static_cast<int>(width * finished / total) : 0;
        line << "\r[" << std::string(filled, '#') << std::string(width - filled, '-') << "] "
             << state << "  " << counts(j) << "  cost " << str(j, "cost") << "   ";
        c.out << line.str() << std::flush;
      } else {
        line << state << " " << counts(j) << " cost " << str(j, "cost");
        if (line.str() != last_line) c.out << line.str() << "\n" << std::flush;
        last_line = line.str();
      }
    }
    if (done) {
      if (a.has("json"))
        printJson(c, j);
      else {
        if (c.env.terminal) c.out << "\n";
        printJobDetail(c, j);
      }
      return state == "succeeded" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int cancel(const Ctx& c, const Args& a) {
  if (a.positional().size() < 2) return fail(c, "cancel needs an ID");
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  ApiClient api(c.env.scheduler_url, &*key, SystemClock::instance(), SecureRandom::instance());
  auto r = api.call("POST", "/v1/jobs/" + a.positional()[1] + "/cancel");
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json"))
    printJson(c, *r);
  else
    c.out << str(*r, "id") << " " << str(*r, "state") << "\n";
  return 0;
}

// pause, resume and requeue: one POST on the job, then its state.
int jobAction(const Ctx& c, const Args& a, const std::string& action) {
  const bool requeue = action == "requeue";
  if (a.positional().size() < (requeue ? 3u : 2u)) {
    return fail(c, requeue ? "requeue needs a job ID and a TASK_INDEX" : action + " needs an ID");
  }
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  ApiClient api(c.env.scheduler_url, &*key, SystemClock::instance(), SecureRandom::instance());
  const std::string path = "/v1/jobs/" + a.positional()[1] +
                           (requeue ? "/tasks/" + a.positional()[2] + "/requeue" : "/" + action);
  auto r = api.call("POST", path);
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json")) {
    printJson(c, *r);
    return 0;
  }
  c.out << str(*r, "id") << " " << str(*r, "state");
  auto paused = getOptionalBool(*r, "paused");
  if (paused.ok() && paused->value_or(false)) c.out << " (paused)";
  if (!str(*r, "stopped_attempt").empty()) {
    c.out << "; running attempt " << str(*r, "stopped_attempt") << " stopped";
  }
  c.out << "\n";
  return 0;
}

int account(const Ctx& c, const Args& a, bool balance) {
  auto key = loadKey(c);
  if (!key.ok()) return failWith(c, key.error());
  std::string id = key->id();
  if (!balance) {
    if (a.positional().size() < 2) return fail(c, "reputation needs a principal ID");
    id = a.positional()[1];
  }
  ApiClient api(c.env.scheduler_url, &*key, SystemClock::instance(), SecureRandom::instance());
  auto r = api.call("GET", "/v1/accounts/" + id);
  if (!r.ok()) return failWith(c, r.error());
  if (a.has("json")) {
    printJson(c, *r);
  } else if (balance) {
    c.out << "account     " << id << "\nbalance     " << str(*r, "balance") << "\nheld        "
          << str(*r, "held") << "\navailable   " << str(*r, "available") << "\nreputation  "
          << str(*r, "reputation") << "\n";
  } else {
    c.out << str(*r, "reputation") << "\n";
  }
  return 0;
}

}  // namespace

int runCli(const std::vector<std::string>& argv, const CliEnv& env, std::ostream& out,
           std::ostream& err) {
  Ctx c{env, out, err};
  std::vector<std::string> normalized = argv;
  for (auto& a : normalized) {
    if (a == "-f") a = "--follow";  // `dcloud logs -f ID`, as tail users type it
    if (a == "--") break;
  }
  auto args = Args::parse(normalized, {"json", "help", "follow", "preemptible"});
  if (!args.ok()) return fail(c, args.error().message);
  if (args->positional().empty() || args->has("help") || args->positional()[0] == "help") {
    (args->positional().empty() && !args->has("help") ? err : out) << kUsage;
    return args->positional().empty() && !args->has("help") ? 2 : 0;
  }
  const std::string cmd = args->positional()[0];
  static const std::set<std::string> kSubmitOptions{"json",
                                                    "frames",
                                                    "chunk",
                                                    "max-price",
                                                    "min-reputation",
                                                    "cores",
                                                    "memory-mb",
                                                    "gpus",
                                                    "timeout",
                                                    "name",
                                                    "bid-cap",
                                                    "after",
                                                    "task-after",
                                                    "priority",
                                                    "preemptible",
                                                    "max-attempts",
                                                    "retry-backoff",
                                                    "retry-backoff-max",
                                                    "blocklist-after",
                                                    "gpu-model",
                                                    "gpu-memory-mb",
                                                    "min-gpu-throughput",
                                                    "checkpoint",
                                                    "capacity-gb",
                                                    "replicas",
                                                    "days"};
  std::set<std::string> known{"json"};
  if (cmd == "submit") known = kSubmitOptions;
  if (cmd == "keygen") known = {"out"};
  if (cmd == "jobs") known = {"json", "limit"};
  if (cmd == "logs") known = {"json", "follow"};
  if (Status s = args->requireKnown(known); !s.ok()) return fail(c, s.error().message);
  if (cmd == "keygen") return keygen(c, *args);
  if (cmd == "whoami") return whoami(c);
  if (cmd == "submit") return submit(c, *args);
  if (cmd == "jobs") return jobs(c, *args);
  if (cmd == "job") return job(c, *args);
  if (cmd == "wait") return waitJob(c, *args);
  if (cmd == "cancel") return cancel(c, *args);
  if (cmd == "pause" || cmd == "resume" || cmd == "requeue") return jobAction(c, *args, cmd);
  if (cmd == "logs") {
    if (args->positional().size() < 2) return fail(c, "logs needs an ID");
    auto key = loadKey(c);
    if (!key.ok()) return failWith(c, key.error());
    return runLogs(env, *key, args->positional()[1], args->has("follow"), args->has("json"), out,
                   err);
  }
  if (cmd == "balance") return account(c, *args, true);
  if (cmd == "reputation") return account(c, *args, false);
  err << kUsage;
  return fail(c, "unknown command '" + cmd + "'");
}

}  // namespace dcloud::cli
