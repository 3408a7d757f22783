#include "worker/task_runner.h"

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/receipt.h"
#include "common/s3_client.h"

namespace dcloud::worker {

namespace fs = std::filesystem;

namespace {

std::string contentTypeFor(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".exr") return "image/x-exr";
  if (ext == ".txt" || ext == ".log") return "text/plain";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

// Uploads output files while the task runs. A file is uploaded when it is known complete:
// Blender announced it ("Saved: '...'"), or its size and mtime stayed put for a second, or the
// task has exited. A file that changes after upload is uploaded again.
class OutputUploader {
 public:
  OutputUploader(const Task& task, const std::string& out_dir, const S3Client& s3,
                 const Logger& log, std::function<void()> on_uploaded)
      : task_(task), out_dir_(out_dir), s3_(s3), log_(log), on_uploaded_(std::move(on_uploaded)) {}

  void announce(const std::string& host_path) {
    std::lock_guard lock(mutex_);
    announced_.insert(host_path);
  }

  // One pass over the output directory; final=true uploads everything that is left.
  void scan(bool final) {
    std::error_code ec;
    if (!fs::exists(out_dir_, ec)) return;
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(out_dir_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    const auto now = fs::file_time_type::clock::now();
    for (const auto& f : files) {
      const auto size = fs::file_size(f, ec);
      if (ec) continue;
      const auto mtime = fs::last_write_time(f, ec);
      if (ec) continue;
      const std::string sig =
          std::to_string(size) + ":" + std::to_string(mtime.time_since_epoch().count());
      bool announced;
      {
        std::lock_guard lock(mutex_);
        if (uploaded_[f.string()] == sig) continue;
        announced = announced_.count(f.string()) > 0;
      }
      bool stable = seen_[f.string()] == sig && now - mtime > std::chrono::seconds(1);
      seen_[f.string()] = sig;
      if (!(final || announced || stable)) continue;
      const std::string rel = fs::relative(f, out_dir_, ec).generic_string();
      if (ec || rel.empty() || rel.rfind("..", 0) == 0) continue;
      const std::string key = task_.output_prefix + rel;
      auto sent = s3_.putFile(task_.output_bucket, key, f.string(), contentTypeFor(f));
      if (!sent.ok()) {
        failures_++;
        last_error_ = "upload of " + rel + " failed: " + sent.error().message;
        log_.warn(last_error_);
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        uploaded_[f.string()] = sig;
        bytes_out_ += *sent;
        if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(key);
      }
      log_.info("uploaded s3://" + task_.output_bucket + "/" + key + " (" + std::to_string(*sent) +
                " bytes)");
      on_uploaded_();
    }
  }

  std::vector<std::string> keys() {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::int64_t bytesOut() {
    std::lock_guard lock(mutex_);
    return bytes_out_;
  }
  // Failures that were not fixed by a later successful upload of the same file.
  bool allUploaded() {
    std::error_code ec;
    std::lock_guard lock(mutex_);
    for (auto it = fs::recursive_directory_iterator(out_dir_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !uploaded_.count(it->path().string())) return false;
    }
    return true;
  }
  const std::string& lastError() const { return last_error_; }

 private:
  const Task& task_;
  std::string out_dir_;
  const S3Client& s3_;
  const Logger& log_;
  std::function<void()> on_uploaded_;
  std::mutex mutex_;
  std::set<std::string> announced_;
  std::map<std::string, std::string> uploaded_;  // path -> size:mtime uploaded
  std::map<std::string, std::string> seen_;      // path -> size:mtime at the previous scan
  std::vector<std::string> keys_;
  std::int64_t bytes_out_ = 0;
  int failures_ = 0;
  std::string last_error_;
};

}  // namespace

RunOutcome TaskRunner::run(const Task& task, std::atomic<bool>& cancel) {
  RunOutcome outcome;
  using Steady = std::chrono::steady_clock;
  auto micros = [](Steady::time_point a, Steady::time_point b) {
    return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
  };
  const auto run_start = Steady::now();
  auto sandbox_end = run_start;
  // The attempt's directory is its /work: on ext4 each new directory costs the worker ~0.3 ms
  // of CPU (the inode allocator skips recently deleted inodes), a third of it for a wrapper.
  const std::string base = config_.scratch_dir + "/tasks/" + task.attempt_id;
  const std::string& work = base;
  const std::string out_dir = work + "/out";
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    outcome.error = "cannot create scratch " + out_dir + ": " + ec.message();
  }
  S3Client s3(task.s3_endpoint, task.s3, clock_);
  const std::string progress_path =
      "/v1/workers/" + config_.worker_id + "/tasks/" + task.task_id + "/progress";
  std::vector<std::string> tail;  // last lines of output, for the error message

  // Inputs.
  if (outcome.error.empty() && task.kind == "render") {
    auto loc = parseS3Url(task.scene);
    if (!loc.ok()) {
      outcome.error = loc.error().message;
    } else {
      auto got = s3.getFile(loc->bucket, loc->key, work + "/scene.blend");
      if (!got.ok()) outcome.error = "cannot fetch the scene: " + got.error().message;
    }
  }

  std::mutex progress_mutex;
  int frames_done = 0;
  OutputUploader uploader(task, out_dir, s3, log_, [&] {
    std::lock_guard lock(progress_mutex);
    ++frames_done;
  });
  // Output lines on their way to the scheduler's live log, at most kMaxLogBatch per report.
  constexpr std::size_t kMaxLogBatch = 200;
  std::mutex log_mutex;
  std::vector<std::string> pending_log;
  std::size_t dropped_lines = 0;
  auto take_log = [&] {
    std::lock_guard lock(log_mutex);
    std::vector<std::string> out;
    out.swap(pending_log);
    if (dropped_lines > 0) {
      out.push_back("(" + std::to_string(dropped_lines) + " more lines not forwarded)");
      dropped_lines = 0;
    }
    return out;
  };
  // Lines a report could not deliver go back in front of the queue (still bounded), so a
  // scheduler restart loses no output.
  auto give_back_log = [&](std::vector<std::string> lines) {
    std::lock_guard lock(log_mutex);
    for (auto& l : pending_log) {
      if (lines.size() < kMaxLogBatch)
        lines.push_back(std::move(l));
      else
        ++dropped_lines;
    }
    pending_log.swap(lines);
  };
  // False when the scheduler could not be reached (worth sending again); true when it took the
  // report or refused it for good.
  auto report_progress = [&](const std::vector<std::string>& keys, int done,
                             const std::vector<std::string>& lines) -> bool {
    JsonObject body = new Poco::JSON::Object;
    body->set("attempt_id", task.attempt_id);
    body->set("frames_done", done);
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto& k : keys) arr->add(k);
    body->set("outputs", arr);
    if (!lines.empty()) {
      Poco::JSON::Array::Ptr log_arr = new Poco::JSON::Array;
      for (const auto& l : lines) log_arr->add(l);
      body->set("log", log_arr);
    }
    auto r = scheduler_.call("POST", progress_path, body, 10000);
    if (!r.ok() && r.error().code == ErrorCode::kConflict) {
      log_.warn("scheduler says attempt " + task.attempt_id + " is no longer ours; stopping it");
      cancel = true;
    }
    if (r.ok()) return true;
    const ErrorCode code = r.error().code;
    return code != ErrorCode::kUnavailable && code != ErrorCode::kDeadlineExceeded &&
           code != ErrorCode::kInternal;
  };

  SandboxResult result;
  bool ran = false;
  if (outcome.error.empty()) {
    SandboxSpec spec;
    spec.work_dir = work;
    spec.limits.memory_bytes = task.memory_mb * 1024 * 1024;
    spec.limits.max_processes = config_.max_processes;
    spec.limits.cpus = task.cores;
    spec.limits.timeout_millis = task.timeout_seconds * 1000;
    spec.env["DCLOUD_OUTPUT_DIR"] = "/work/out";
    spec.env["DCLOUD_TASK_ID"] = task.task_id;
    if (task.kind == "render") {
      spec.argv = {config_.blender,
                   "-b",
                   "/work/scene.blend",
                   "-noaudio",
                   "-o",
                   "/work/out/frame_#####",
                   "-F",
                   "PNG",
                   "-x",
                   "1",
                   "-t",
                   std::to_string(task.cores),
                   "-s",
                   std::to_string(task.frame_first),
                   "-e",
                   std::to_string(task.frame_last),
                   "-a"};
      spec.env["DCLOUD_FRAME_FIRST"] = std::to_string(task.frame_first);
      spec.env["DCLOUD_FRAME_LAST"] = std::to_string(task.frame_last);
    } else {
      spec.argv = task.command;
      if (!task.checkpoint_prefix.empty()) spec.env["DCLOUD_CHECKPOINT"] = task.checkpoint_prefix;
    }
    // The scanner wakes every 500 ms, and at once when the sandbox returns: a sleep it had to
    // finish first used to hold every completion back by up to 100 ms.
    std::mutex finished_mutex;
    std::condition_variable finished_cv;
    bool finished = false;
    auto sandbox_done = [&] {
      std::lock_guard lock(finished_mutex);
      return finished;
    };
    std::thread scanner([&] {
      // Marks the task running. Sent from here so the sandbox starts without waiting for the
      // round trip; the completion still follows it, since the scanner is joined before.
      report_progress({}, 0, {});
      int last_reported = 0;
      while (!sandbox_done()) {
        uploader.scan(false);
        int done;
        {
          std::lock_guard lock(progress_mutex);
          done = frames_done;
        }
        if (done != last_reported) {
          last_reported = done;
          report_progress(uploader.keys(), done, {});
        }
        if (auto lines = take_log();
            !lines.empty() && !report_progress(uploader.keys(), done, lines))
          give_back_log(std::move(lines));
        std::unique_lock lock(finished_mutex);
        finished_cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return finished; });
      }
    });
    log_.info("running task " + task.task_id + " attempt " + task.attempt_id + " (" + task.kind +
              (task.kind == "render" ? " frames " + std::to_string(task.frame_first) + "-" +
                                           std::to_string(task.frame_last)
                                     : std::string()) +
              ")");
    outcome.timings.before_sandbox_micros = micros(run_start, Steady::now());
    auto r = sandbox_.run(
        spec,
        [&](std::string_view line) {
          // Blender: "Saved: '/work/out/frame_00001.png'" once a frame is fully written.
          const std::string_view marker = "Saved: '";
          if (auto p = line.find(marker); p != std::string_view::npos) {
            auto rest = line.substr(p + marker.size());
            auto q = rest.find('\'');
            std::string inside(rest.substr(0, q));
            if (inside.rfind("/work/", 0) == 0) uploader.announce(work + inside.substr(5));
          }
          tail.emplace_back(line.substr(0, 500));
          {
            std::lock_guard lock(log_mutex);
            if (pending_log.size() < kMaxLogBatch)
              pending_log.emplace_back(line.substr(0, 2000));
            else
              ++dropped_lines;
          }
          if (tail.size() > 20) tail.erase(tail.begin());
        },
        cancel);
    sandbox_end = Steady::now();
    if (r.ok()) outcome.timings.sandbox = r->timings;
    {
      std::lock_guard lock(finished_mutex);
      finished = true;
    }
    finished_cv.notify_all();
    scanner.join();
    // The last lines, through short outages like the completion after them.
    std::vector<std::string> last_lines = take_log();
    for (int attempt = 0; !last_lines.empty() && !cancel && attempt < 30; ++attempt) {
      if (report_progress(uploader.keys(), frames_done, last_lines)) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (!r.ok()) {
      outcome.error = "sandbox: " + r.error().message;
    } else {
      ran = true;
      result = *r;
    }
    uploader.scan(true);
  }

  outcome.frames_done = frames_done;
  outcome.bytes_out = uploader.bytesOut();
  outcome.exit_code = ran ? result.exit_code : -1;
  if (outcome.error.empty()) {
    if (result.cancelled)
      outcome.error = "cancelled";
    else if (result.timed_out)
      outcome.error = "timed out after " + std::to_string(task.timeout_seconds) + " s";
    else if (result.out_of_memory)
      outcome.error = "out of memory (limit " + std::to_string(task.memory_mb) + " MB)";
    else if (result.exit_code != 0)
      outcome.error = "exited with status " + std::to_string(result.exit_code);
    else if (!uploader.allUploaded())
      outcome.error = uploader.lastError();
    else if (task.kind == "render" && frames_done < task.frame_last - task.frame_first + 1) {
      outcome.error = "Blender wrote " + std::to_string(frames_done) + " of " +
                      std::to_string(task.frame_last - task.frame_first + 1) + " frames";
    }
  }
  if (!outcome.error.empty() && !tail.empty() && ran && !result.cancelled) {
    outcome.error += "; last output: " + tail.back();
  }
  outcome.succeeded = outcome.error.empty();

  UsageReceipt receipt;
  receipt.receipt_id = task.attempt_id;
  receipt.task_id = task.task_id;
  receipt.job_id = task.job_id;
  receipt.worker_id = config_.worker_id;
  receipt.provider = key_.id();
  receipt.cpu_millis = result.usage.cpu_millis;
  receipt.wall_millis = result.usage.wall_millis;
  receipt.peak_memory_bytes = result.usage.peak_memory_bytes;
  receipt.bytes_out = outcome.bytes_out;
  receipt.exit_code = std::clamp(outcome.exit_code, -255, 255);
  JsonObject body = new Poco::JSON::Object;
  body->set("attempt_id", task.attempt_id);
  body->set("status", outcome.succeeded ? "succeeded" : "failed");
  body->set("exit_code", receipt.exit_code);
  if (!outcome.error.empty()) body->set("error", outcome.error);
  Poco::JSON::Array::Ptr keys = new Poco::JSON::Array;
  for (const auto& k : uploader.keys()) keys->add(k);
  body->set("outputs", keys);
  body->set("receipt", receiptToJson(receipt));
  body->set("receipt_signature", signReceipt(receipt, key_));
  if (config_.next_lease_wait_millis > 0)
    body->set("lease_wait_ms", config_.next_lease_wait_millis);
  const std::string complete_path =
      "/v1/workers/" + config_.worker_id + "/tasks/" + task.task_id + "/complete";
  const auto complete_start = Steady::now();
  if (ran) outcome.timings.after_sandbox_micros = micros(sandbox_end, complete_start);
  // The completion carries the bill: retry through short outages, stop when refused.
  for (int attempt = 0; attempt < 30; ++attempt) {
    auto r = scheduler_.call("POST", complete_path, body,
                             15000 + static_cast<int>(config_.next_lease_wait_millis));
    if (r.ok()) {
      auto next = getOptionalArray(*r, "tasks");
      if (next.ok() && next->has_value()) {
        for (std::size_t i = 0; i < (**next)->size(); ++i) {
          JsonObject o = (**next)->getObject(static_cast<unsigned>(i));
          if (o) outcome.next_tasks.push_back(o);
        }
      }
      log_.info("task " + task.task_id + " " + (outcome.succeeded ? "succeeded" : "failed") +
                (outcome.error.empty() ? "" : " (" + outcome.error + ")") + "; cpu " +
                std::to_string(receipt.cpu_millis) + " ms, wall " +
                std::to_string(receipt.wall_millis) + " ms, peak " +
                std::to_string(receipt.peak_memory_bytes / (1024 * 1024)) + " MiB, out " +
                std::to_string(receipt.bytes_out) + " B");
      break;
    }
    const ErrorCode code = r.error().code;
    if (code != ErrorCode::kUnavailable && code != ErrorCode::kDeadlineExceeded &&
        code != ErrorCode::kInternal && r.error().reason != "refresh-nonce") {
      log_.warn("completion of " + task.task_id + " refused: " + r.error().message);
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const auto cleanup_start = Steady::now();
  outcome.timings.complete_micros = micros(complete_start, cleanup_start);
  if (!config_.keep_scratch) fs::remove_all(base, ec);
  outcome.timings.cleanup_micros = micros(cleanup_start, Steady::now());
  return outcome;
}

}  // namespace dcloud::worker
