// A small stand-in for libFuzzer's main, for compilers without -fsanitize=fuzzer (g++): runs
// every file of a seed corpus through LLVMFuzzerTestOneInput, then random mutations of them (bit
// flips, byte changes, truncations, insertions, deletions, duplications, splices, dictionary
// tokens) for a time or iteration budget from a fixed seed, so a run is reproducible. Built with
// -fsanitize=address,undefined where available, any report aborts the run; an input that takes
// too long counts as a hang. The input that failed is written to <out-dir>/crash-<hash> first.
//   fuzz_x --corpus DIR [--seconds N] [--iterations N] [--seed N] [--max-len N] [--out-dir D]
//   fuzz_x FILE...      replays files (e.g. a crash) and exits
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Present when a sanitizer runtime is linked in; lets the driver save the input before exiting.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

constexpr int kHangSeconds = 10;

std::string g_out_dir = ".";
std::string g_current;  // the input being run, for the crash file
std::atomic<std::int64_t> g_started_ms{0};

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Called from a signal or sanitizer death path: only async-signal-safe calls.
void saveCurrent(const char* why) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : g_current) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  char path[4096];
  std::snprintf(path, sizeof path, "%s/crash-%016llx", g_out_dir.c_str(),
                static_cast<unsigned long long>(h));
  FILE* f = std::fopen(path, "wb");
  if (f != nullptr) {
    std::fwrite(g_current.data(), 1, g_current.size(), f);
    std::fclose(f);
  }
  std::fprintf(stderr, "\nfuzz driver: %s; input (%zu bytes) saved to %s\n", why, g_current.size(),
               path);
}

void onDeath() {
  saveCurrent("sanitizer report");
}

void onSignal(int sig) {
  saveCurrent(sig == SIGALRM ? "hang" : "crash");
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(1);
}

void runOne(const std::string& input) {
  g_current = input;
  g_started_ms = nowMs();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(g_current.data()), g_current.size());
  g_started_ms = 0;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string kTokens[] = {"\r\n",
                               "\r\n\r\n",
                               ";chunk-signature=",
                               "0\r\n",
                               "ffffffffffffffff",
                               "x-amz-checksum-crc32:",
                               "x-amz-trailer-signature:",
                               "%",
                               "%00",
                               "%2F",
                               "%zz",
                               "?",
                               "&",
                               "=",
                               "/",
                               "..",
                               ":",
                               "host: ",
                               ".s3.example.test",
                               "<",
                               ">",
                               "</",
                               "<Key>",
                               "</Key>",
                               "<Object>",
                               "<!DOCTYPE x [<!ENTITY e \"e\">]>",
                               "&e;",
                               "<![CDATA[",
                               "\xc3\xa9",
                               "\xff",
                               std::string("\0", 1)};

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::string mutate(const std::vector<std::string>& pool, std::size_t max_len) {
    std::string s = pool[below(pool.size())];
    const int rounds = 1 + static_cast<int>(below(4));
    for (int r = 0; r < rounds; ++r) step(s, pool);
    if (s.size() > max_len) s.resize(max_len);
    return s;
  }

 private:
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  void step(std::string& s, const std::vector<std::string>& pool) {
    switch (below(9)) {
      case 0:  // bit flip
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // random byte
        if (!s.empty()) s[below(s.size())] = static_cast<char>(below(256));
        break;
      case 2:  // truncation
        s.resize(below(s.size() + 1));
        break;
      case 3: {  // inserted random bytes
        const std::size_t n = 1 + below(8);
        std::string bytes;
        for (std::size_t i = 0; i < n; ++i) bytes += static_cast<char>(below(256));
        s.insert(below(s.size() + 1), bytes);
        break;
      }
      case 4:  // deleted range
        if (!s.empty()) {
          const std::size_t at = below(s.size());
          s.erase(at, 1 + below(std::min<std::size_t>(16, s.size() - at)));
        }
        break;
      case 5:  // duplicated range
        if (!s.empty()) {
          const std::size_t at = below(s.size());
          const std::string part = s.substr(at, 1 + below(32));
          s.insert(below(s.size() + 1), part);
        }
        break;
      case 6: {  // splice with another input
        const std::string& other = pool[below(pool.size())];
        const std::size_t cut = below(s.size() + 1);
        const std::size_t from = below(other.size() + 1);
        s = s.substr(0, cut) + other.substr(from);
        break;
      }
      case 7: {  // dictionary token
        s.insert(below(s.size() + 1), kTokens[below(std::size(kTokens))]);
        break;
      }
      default: {  // an ASCII digit or hex letter changed (sizes, lengths, escapes)
        if (s.empty()) break;
        const std::size_t at = below(s.size());
        s[at] = "0123456789abcdefF"[below(17)];
        break;
      }
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string corpus;
  double seconds = 5;
  std::uint64_t iterations = 0;  // 0: until the time budget is spent
  std::uint64_t seed = 1;
  std::size_t max_len = 4096;
  std::vector<std::string> replay;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--corpus") {
      corpus = value();
    } else if (a == "--seconds") {
      seconds = std::atof(value().c_str());
    } else if (a == "--iterations") {
      iterations = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--seed") {
      seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--max-len") {
      max_len = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--out-dir") {
      g_out_dir = value();
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    } else {
      replay.push_back(a);
    }
  }
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(onDeath);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM}) signal(sig, onSignal);
  // Hang watchdog: one input running longer than kHangSeconds ends the run.
  std::thread([] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const std::int64_t started = g_started_ms;
      if (started != 0 && nowMs() - started > kHangSeconds * 1000) raise(SIGALRM);
    }
  }).detach();

  if (!replay.empty()) {
    for (const std::string& path : replay) runOne(readFile(path));
    std::printf("replayed %zu inputs\n", replay.size());
    return 0;
  }
  std::vector<std::string> pool;
  if (!corpus.empty()) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());  // a fixed order keeps runs reproducible
    for (const auto& f : files) pool.push_back(readFile(f));
  }
  if (pool.empty()) pool.emplace_back();
  for (const std::string& input : pool) runOne(input);
  const std::size_t seeds = pool.size();

  Mutator mutator(seed);
  std::mt19937_64 keep(seed ^ 0x9e3779b97f4a7c15ull);
  const std::int64_t deadline = nowMs() + static_cast<std::int64_t>(seconds * 1000);
  std::uint64_t n = 0;
  while (iterations != 0 ? n < iterations : nowMs() < deadline) {
    std::string input = mutator.mutate(pool, max_len);
    runOne(input);
    // Without coverage feedback, keeping some mutants lets mutations stack up over the run.
    if (keep() % 8 == 0) {
      if (pool.size() < seeds + 512)
        pool.push_back(std::move(input));
      else
        pool[seeds + keep() % 512] = std::move(input);
    }
    ++n;
  }
  std::printf("fuzz driver: %zu seeds, %llu mutated inputs, seed %llu: no crash, no hang\n", seeds,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(seed));
  return 0;
}
