// `dcloud logs ID [-f]`: the job's live events (tasks leased and finished, progress, every output
// line of every task) from the scheduler's Server-Sent Events endpoint.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "common/crypto.h"
#include "common/http_client.h"
#include "common/http_errors.h"
#include "common/json.h"
#include "common/signed_request.h"

namespace dcloud::cli {

namespace {

struct SseEvent {
  std::string id;
  std::string type;
  std::string data;
};

std::string field(const JsonObject& o, const char* key) {
  if (!o->has(key)) return "";
  return o->get(key).toString();
}

// Prints one event; returns true when it ends the job (job.finished), with the job's state.
bool printEvent(const SseEvent& e, bool json, std::ostream& out, std::string& final_state) {
  if (json) {
    JsonObject line = new Poco::JSON::Object;
    line->set("id", e.id);
    line->set("event", e.type);
    auto data = parseJsonObject(e.data);
    if (data.ok()) line->set("data", *data);
    out << toJson(line) << "\n" << std::flush;
  }
  auto data = parseJsonObject(e.data);
  if (!data.ok()) return false;
  const JsonObject& d = *data;
  const std::string task = "#" + field(d, "index");
  if (!json) {
    if (e.type == "log") {
      auto lines = getOptionalStringList(d, "lines");
      if (lines.ok() && lines->has_value()) {
        for (const auto& l : **lines) out << "[" << task << "] " << l << "\n";
      }
    } else if (e.type == "job.submitted") {
      out << "-- job submitted: " << field(d, "tasks") << " task(s)\n";
    } else if (e.type == "task.leased") {
      out << "-- task " << task << " leased to worker " << field(d, "worker") << " at "
          << field(d, "price") << " per hour\n";
    } else if (e.type == "task.progress") {
      if (field(d, "outputs") != "0") {
        out << "-- task " << task << ": " << field(d, "outputs") << " output(s) uploaded\n";
      }
    } else if (e.type == "task.finished") {
      out << "-- task " << task << " attempt " << field(d, "status") << " -> "
          << field(d, "task_state") << ", cost " << field(d, "cost");
      if (d->has("error")) out << ": " << field(d, "error");
      out << "\n";
    } else if (e.type == "job.finished") {
      out << "-- job " << field(d, "state") << "\n";
    }
    out << std::flush;
  }
  if (e.type == "job.finished") {
    final_state = field(d, "state");
    return true;
  }
  return false;
}

}  // namespace

int runLogs(const CliEnv& env, const KeyPair& key, const std::string& job_id, bool follow,
            bool json, std::ostream& out, std::ostream& err) {
  auto url = parseUrl(env.scheduler_url);
  if (!url.ok()) {
    err << "dcloud: " << url.error().message << "\n";
    return 1;
  }
  std::string last_id = "0";
  std::string final_state;
  int failures = 0;
  while (true) {
    const std::string path = "/v1/jobs/" + job_id + "/events";
    const std::string query = "after=" + last_id + "&follow=" + (follow ? "true" : "false");
    try {
      Poco::Net::HTTPClientSession session(url->host, url->port);
      session.setTimeout(Poco::Timespan(60, 0));  // the server sends keepalives every ~2 s
      Poco::Net::HTTPRequest req("GET", path + "?" + query, Poco::Net::HTTPMessage::HTTP_1_1);
      req.set("Authorization", signRequest(key, {"GET", path, query, sha256Hex("")},
                                           SystemClock::instance(), SecureRandom::instance()));
      session.sendRequest(req);
      Poco::Net::HTTPResponse resp;
      std::istream& in = session.receiveResponse(resp);
      if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
        std::string body;
        Poco::StreamCopier::copyToString(in, body);
        err << "dcloud: " << errorFromHttp(static_cast<int>(resp.getStatus()), body).message
            << "\n";
        return 1;
      }
      failures = 0;
      SseEvent event;
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
          if (!event.type.empty()) {
            last_id = event.id.empty() ? last_id : event.id;
            if (printEvent(event, json, out, final_state))
              return final_state == "succeeded" ? 0 : 1;
          }
          event = SseEvent{};
        } else if (line.rfind("id: ", 0) == 0) {
          event.id = line.substr(4);
        } else if (line.rfind("event: ", 0) == 0) {
          event.type = line.substr(7);
        } else if (line.rfind("data: ", 0) == 0) {
          event.data += line.substr(6);
        }
      }
      if (!follow) return 0;
    } catch (const Poco::Exception& e) {
      if (!follow || ++failures > 30) {
        err << "dcloud: " << e.displayText() << "\n";
        return 1;
      }
    }
    // The stream dropped (scheduler restart, network): resume after the last event seen.
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace dcloud::cli
