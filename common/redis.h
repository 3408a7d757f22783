#pragma once
// Redis through hiredis: a small pool of blocking connections, safe to share between threads.
// Redis holds only what can be rebuilt (nonces, wake-ups, heartbeats, live events), so every
// caller treats an Unavailable error as "degrade", never as data loss.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/signed_request.h"

struct redisContext;

namespace dcloud {

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string key_prefix = "dcloud:";  // every key this process writes starts with it
  int pool_size = 8;
};

struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus };
  Type type = Type::kNil;
  std::string str;
  long long integer = 0;
  std::vector<RedisReply> elements;
};

class RedisPool {
 public:
  // Connects once to check the server (Unavailable if it cannot) and selects config.db.
  static Result<std::shared_ptr<RedisPool>> connect(const RedisConfig& config);
  ~RedisPool();

  // Runs one command given as argv. Errors from the server become Internal.
  Result<RedisReply> command(const std::vector<std::string>& argv);
  // BLPOP on one key; nullopt on timeout. Holds a connection for up to timeout_seconds.
  Result<std::optional<std::string>> blpop(const std::string& key, double timeout_seconds);
  std::string key(const std::string& name) const { return config_.key_prefix + name; }
  const RedisConfig& config() const { return config_; }

 private:
  explicit RedisPool(RedisConfig config) : config_(std::move(config)) {}
  struct Connection {
    redisContext* ctx = nullptr;
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();
  };
  Result<std::unique_ptr<Connection>> take();
  void give(std::unique_ptr<Connection> conn);
  RedisConfig config_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Nonces in Redis: SET prefix+"nonce:"+id+":"+nonce 1 NX PX ttl.
class RedisNonceStore final : public NonceStore {
 public:
  explicit RedisNonceStore(std::shared_ptr<RedisPool> redis) : redis_(std::move(redis)) {}
  Result<bool> rememberOnce(const std::string& id, const std::string& nonce,
                            std::int64_t ttl_millis) override;

 private:
  std::shared_ptr<RedisPool> redis_;
};

}  // namespace dcloud
