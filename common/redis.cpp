#include "common/redis.h"

#include <hiredis/hiredis.h>

#include <sys/time.h>

namespace dcloud {

RedisPool::Connection::~Connection() {
  if (ctx) redisFree(ctx);
}

namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = RedisReply::Type::kNil;
  }
  return out;
}

timeval toTimeval(double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(seconds);
  tv.tv_usec = static_cast<long>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

}  // namespace

Result<std::shared_ptr<RedisPool>> RedisPool::connect(const RedisConfig& config) {
  std::shared_ptr<RedisPool> pool(new RedisPool(config));
  auto conn = pool->take();
  if (!conn.ok()) return conn.error();
  pool->give(std::move(*conn));
  return pool;
}

RedisPool::~RedisPool() = default;

Result<std::unique_ptr<RedisPool::Connection>> RedisPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto conn = std::make_unique<Connection>();
  conn->ctx = redisConnectWithTimeout(config_.host.c_str(), config_.port, toTimeval(2.0));
  if (!conn->ctx || conn->ctx->err) {
    std::string why = conn->ctx ? conn->ctx->errstr : "out of memory";
    return unavailable("redis " + config_.host + ":" + std::to_string(config_.port) + ": " + why);
  }
  redisSetTimeout(conn->ctx, toTimeval(5.0));
  if (config_.db != 0) {
    auto* r = static_cast<redisReply*>(redisCommand(conn->ctx, "SELECT %d", config_.db));
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
    if (!ok) return unavailable("redis: cannot select database " + std::to_string(config_.db));
  }
  return conn;
}

void RedisPool::give(std::unique_ptr<Connection> conn) {
  if (!conn || conn->ctx->err) return;  // a broken context is dropped, a new one made later
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < config_.pool_size) idle_.push_back(std::move(conn));
}

Result<RedisReply> RedisPool::command(const std::vector<std::string>& argv) {
  auto conn = take();
  if (!conn.ok()) return conn.error();
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv((*conn)->ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (!r) {
    std::string why = (*conn)->ctx->errstr;
    return unavailable("redis: " + why);
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string why(r->str, r->len);
    freeReplyObject(r);
    give(std::move(*conn));
    return internalError("redis: " + why);
  }
  RedisReply out = convert(r);
  freeReplyObject(r);
  give(std::move(*conn));
  return out;
}

Result<std::optional<std::string>> RedisPool::blpop(const std::string& key,
                                                    double timeout_seconds) {
  auto conn = take();
  if (!conn.ok()) return conn.error();
  // The socket timeout must outlast the server-side BLPOP timeout.
  redisSetTimeout((*conn)->ctx, toTimeval(timeout_seconds + 5.0));
  char timeout_text[32];
  std::snprintf(timeout_text, sizeof timeout_text, "%.3f", timeout_seconds);
  auto* r = static_cast<redisReply*>(
      redisCommand((*conn)->ctx, "BLPOP %b %s", key.data(), key.size(), timeout_text));
  if (!r) return unavailable(std::string("redis: ") + (*conn)->ctx->errstr);
  redisSetTimeout((*conn)->ctx, toTimeval(5.0));
  std::optional<std::string> value;
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
    value = std::string(r->element[1]->str, r->element[1]->len);
  }
  bool error = r->type == REDIS_REPLY_ERROR;
  std::string why = error ? std::string(r->str, r->len) : "";
  freeReplyObject(r);
  give(std::move(*conn));
  if (error) return internalError("redis: " + why);
  return value;
}

Result<bool> RedisNonceStore::rememberOnce(const std::string& id, const std::string& nonce,
                                           std::int64_t ttl_millis) {
  auto r = redis_->command({"SET", redis_->key("nonce:" + id + ":" + nonce), "1", "NX", "PX",
                            std::to_string(ttl_millis)});
  if (!r.ok()) return r.error();
  return r->type == RedisReply::Type::kStatus;  // OK when set, nil when it existed
}

}  // namespace dcloud
