// S3 throughput of a running gateway, and the disk's own ceiling in the same run.
//   dcloud-bench-s3 --endpoint URL --access-key K --secret S --gateway-pid PID --dir DIR
//                   [--large-mib 256] [--small-ops 2000]
// Prints key=value lines: PUT/GET MB/s for 1 MiB and large objects at concurrency 1 and 8, 4 KiB
// PUT/GET operations per second, the gateway's peak RSS (VmHWM), and the ceiling: the same bytes
// written with fsync to DIR (the gateway's disk) and read back after dropping the page cache.
// Every object, and every 4 KiB block in it, is unique: the gateway deduplicates chunks, and
// repeated bytes would measure its dedup instead of its storage path.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/clock.h"
#include "common/s3_client.h"
#include "common/sigv4.h"

namespace {

using Steady = std::chrono::steady_clock;
constexpr std::size_t kMiB = 1024 * 1024;

struct Target {
  std::string host;
  std::uint16_t port = 0;
  dcloud::SigV4Credentials creds;
};

// Object bytes that the gateway cannot deduplicate: a random pattern with (object number, block
// number) written into the first 16 bytes of every 4 KiB block, so no two blocks of the run, and
// hence no two 4 MiB chunks, are equal. Stamping costs 16 bytes per 4 KiB, far below the cost of
// sending them, so the client does not become the bottleneck.
class Stamper {
 public:
  static constexpr std::size_t kBlock = 4096;
  explicit Stamper(const std::string& pattern) : buf_(pattern) {}
  std::size_t size() const { return buf_.size(); }
  // The object's bytes [offset, offset + size()); offset is a multiple of size().
  const char* fill(std::uint64_t object, std::size_t offset) {
    for (std::size_t b = 0; b + 16 <= buf_.size(); b += kBlock) {
      const std::uint64_t stamp[2] = {object, (offset + b) / kBlock};
      std::memcpy(&buf_[b], stamp, sizeof stamp);
    }
    return buf_.data();
  }

 private:
  std::string buf_;
};

// One keep-alive connection per client thread; requests signed with UNSIGNED-PAYLOAD.
class Client {
 public:
  Client(const Target& t, const std::string& pattern)
      : target_(t), session_(t.host, t.port), stamper_(pattern) {
    session_.setKeepAlive(true);
    session_.setTimeout(Poco::Timespan(120, 0));
  }

  // PUTs size bytes of object number `object` (see Stamper); true on 200. Errors are reported,
  // not thrown.
  bool put(const std::string& path, std::uint64_t object, std::size_t size) {
    try {
      return tryPut(path, object, size);
    } catch (const std::exception& e) {
      std::cerr << "PUT " << path << ": " << e.what() << "\n";
      return false;
    }
  }

  std::int64_t get(const std::string& path) {
    try {
      return tryGet(path);
    } catch (const std::exception& e) {
      std::cerr << "GET " << path << ": " << e.what() << "\n";
      return -1;
    }
  }

 private:
  bool tryPut(const std::string& path, std::uint64_t object, std::size_t size) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_PUT, path,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    sign(req, "PUT", path);
    req.setContentLength64(static_cast<Poco::Int64>(size));
    std::ostream& out = session_.sendRequest(req);
    for (std::size_t offset = 0; offset < size && out;) {
      const std::size_t n = std::min(size - offset, stamper_.size());
      out.write(stamper_.fill(object, offset), static_cast<std::streamsize>(n));
      offset += n;
    }
    Poco::Net::HTTPResponse resp;
    std::istream& in = session_.receiveResponse(resp);
    drain(in);
    return resp.getStatus() == Poco::Net::HTTPResponse::HTTP_OK;
  }

  // GETs the object; returns the bytes read, -1 unless 200.
  std::int64_t tryGet(const std::string& path) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    sign(req, "GET", path);
    session_.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session_.receiveResponse(resp);
    const std::int64_t n = drain(in);
    return resp.getStatus() == Poco::Net::HTTPResponse::HTTP_OK ? n : -1;
  }

  void sign(Poco::Net::HTTPRequest& req, const std::string& method, const std::string& path) {
    const std::string date = dcloud::amzDate(dcloud::SystemClock::instance().nowMillis());
    dcloud::SigV4Request s;
    s.method = method;
    s.canonical_uri = path;
    s.headers = {{"host", target_.host + ":" + std::to_string(target_.port)},
                 {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                 {"x-amz-date", date}};
    s.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    s.payload_hash = "UNSIGNED-PAYLOAD";
    req.setHost(target_.host, target_.port);
    req.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    req.set("x-amz-date", date);
    req.set("Authorization", dcloud::sigv4Authorization(target_.creds, s, date));
  }

  static std::int64_t drain(std::istream& in) {
    static thread_local std::vector<char> buf(1 << 20);
    std::int64_t total = 0;
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      total += in.gcount();
    }
    return total;
  }

  const Target& target_;
  Poco::Net::HTTPClientSession session_;
  Stamper stamper_;
};

std::string randomPattern(std::size_t n) {
  std::string s(n, '\0');
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

double secondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// Runs fn(thread, i) for i in [0, count) over `threads` threads; returns elapsed seconds, or -1
// if any call failed.
template <class Fn>
double runParallel(int threads, int count, Fn fn) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  const auto start = Steady::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = next++; i < count; i = next++) {
        if (!fn(t, i)) failed = true;
      }
    });
  }
  for (std::thread& th : pool) th.join();
  return failed ? -1 : secondsSince(start);
}

void print(const std::string& key, double value) {
  std::printf("%s=%.1f\n", key.c_str(), value);
  std::fflush(stdout);
}

// Writes total bytes in files of `size` with fsync from `threads` threads, then drops the page
// cache (when allowed) and reads them back. Returns {write MB/s, read MB/s, cache dropped}.
struct Ceiling {
  double write_mb_s = 0;
  double read_mb_s = 0;
  bool dropped = false;
};
Ceiling measureCeiling(const std::string& dir, const std::string& pattern, std::size_t size,
                       int threads) {
  Ceiling c;
  const double total_mb = static_cast<double>(size) * threads / 1e6;
  auto name = [&](int i) { return dir + "/ceiling-" + std::to_string(i); };
  double secs = runParallel(threads, threads, [&](int, int i) {
    const int fd = ::open(name(i).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return false;
    std::size_t left = size;
    while (left > 0) {
      const std::size_t n = std::min(left, pattern.size());
      if (::write(fd, pattern.data(), n) != static_cast<ssize_t>(n)) return ::close(fd), false;
      left -= n;
    }
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
  });
  c.write_mb_s = secs > 0 ? total_mb / secs : 0;
  ::sync();
  std::ofstream drop("/proc/sys/vm/drop_caches");
  c.dropped = static_cast<bool>(drop << "3\n" << std::flush);
  std::vector<char> buf(kMiB);
  secs = runParallel(threads, threads, [&](int, int i) {
    const int fd = ::open(name(i).c_str(), O_RDONLY);
    if (fd < 0) return false;
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
    return true;
  });
  c.read_mb_s = secs > 0 ? total_mb / secs : 0;
  for (int i = 0; i < threads; ++i) ::unlink(name(i).c_str());
  return c;
}

void dropCaches() {
  ::sync();
  std::ofstream("/proc/sys/vm/drop_caches") << "3\n";
}

long vmHwmKib(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = dcloud::Args::parse(argc, argv);
  if (!args.ok()) {
    std::cerr << args.error().message << "\n";
    return 2;
  }
  const std::string endpoint = args->get("endpoint").value_or("");
  const std::string pid = args->get("gateway-pid").value_or("");
  const std::string dir = args->get("dir").value_or("");
  const dcloud::Result<long long> large_mib = args->getInt("large-mib", 256);
  const dcloud::Result<long long> small_count = args->getInt("small-ops", 2000);
  if (!large_mib.ok() || !small_count.ok() || *large_mib < 1 || *small_count < 1) {
    std::cerr << "--large-mib and --small-ops take positive integers\n";
    return 2;
  }
  const std::size_t large = static_cast<std::size_t>(*large_mib) * kMiB;
  const int small_ops = static_cast<int>(*small_count);
  Target target;
  Poco::URI uri(endpoint);
  target.host = uri.getHost();
  target.port = uri.getPort();
  target.creds.access_key = args->get("access-key").value_or("");
  target.creds.secret_key = args->get("secret").value_or("");
  if (endpoint.empty() || pid.empty() || dir.empty() || target.creds.access_key.empty()) {
    std::cerr << "usage: dcloud-bench-s3 --endpoint URL --access-key K --secret S --gateway-pid "
                 "PID --dir DIR [--large-mib N] [--small-ops N]\n";
    return 2;
  }
  dcloud::S3Client admin(endpoint, target.creds, dcloud::SystemClock::instance());
  if (auto st = admin.createBucket("bench"); !st.ok()) {
    std::cerr << "cannot create the bucket: " << st.error().message << "\n";
    return 1;
  }
  const std::string pattern = randomPattern(kMiB);
  // Every object of the run gets its own number, so its bytes differ from every other's.
  std::atomic<std::uint64_t> next_object{1};
  // Fresh connections for each phase: the gateway closes connections idle for 5 s.
  std::vector<std::unique_ptr<Client>> clients;
  auto reconnect = [&] {
    clients.clear();
    for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<Client>(target, pattern));
  };
  std::printf("large_object_mib=%zu\n", large / kMiB);

  struct Case {
    std::string name;
    std::size_t size;
    int threads;
    int count;
  };
  const std::vector<Case> cases = {{"1mib_c1", kMiB, 1, 64},
                                   {"1mib_c8", kMiB, 8, 256},
                                   {"large_c1", large, 1, 1},
                                   {"large_c8", large, 8, 8}};
  for (const Case& c : cases) {
    const std::string prefix = "/bench/" + c.name + "-";
    const double mb = static_cast<double>(c.size) * c.count / 1e6;
    reconnect();
    const double put_s = runParallel(c.threads, c.count, [&](int t, int i) {
      return clients[t]->put(prefix + std::to_string(i), next_object++, c.size);
    });
    dropCaches();
    reconnect();
    const double get_s = runParallel(c.threads, c.count, [&](int t, int i) {
      return clients[t]->get(prefix + std::to_string(i)) == static_cast<std::int64_t>(c.size);
    });
    if (put_s < 0 || get_s < 0) {
      std::cerr << c.name << ": a request failed\n";
      return 1;
    }
    print("put_" + c.name + "_mb_s", mb / put_s);
    print("get_" + c.name + "_mb_s", mb / get_s);
    if (c.name == "large_c8") {
      print("large_put_mb_s", mb / put_s);
      print("large_get_mb_s", mb / get_s);
    }
  }

  reconnect();
  double put_s = runParallel(8, small_ops, [&](int t, int i) {
    return clients[t]->put("/bench/small-" + std::to_string(i), next_object++, 4096);
  });
  reconnect();
  double get_s = runParallel(8, small_ops, [&](int t, int i) {
    return clients[t]->get("/bench/small-" + std::to_string(i)) == 4096;
  });
  if (put_s < 0 || get_s < 0) {
    std::cerr << "small objects: a request failed\n";
    return 1;
  }
  print("small_put_ops_s", small_ops / put_s);
  print("small_get_ops_s", small_ops / get_s);
  print("peak_rss_mib", static_cast<double>(vmHwmKib(pid)) / 1024.0);

  const Ceiling ceiling = measureCeiling(dir, pattern, large, 8);
  print("ceiling_write_mb_s", ceiling.write_mb_s);
  print("ceiling_read_mb_s", ceiling.read_mb_s);
  std::printf("page_cache_dropped=%s\n", ceiling.dropped ? "yes" : "no");
  return 0;
}
