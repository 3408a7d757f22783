#include "common/redis.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "tests/support/test_env.h"

namespace dcloud {
namespace {

std::shared_ptr<RedisPool> connectOrDie() {
  auto pool = RedisPool::connect(testing::testRedisConfig());
  if (!pool.ok()) throw std::runtime_error(pool.error().toString());
  return *pool;
}

long long blockedClients(RedisPool& redis) {
  auto info = redis.command({"INFO", "clients"});
  if (!info.ok()) return -1;
  const std::string key = "blocked_clients:";
  std::size_t at = info->str.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(info->str.substr(at + key.size()));
}

TEST(RedisTest, Commands) {
  auto redis = connectOrDie();
  const std::string k = redis->key("k");
  EXPECT_EQ(k.rfind(redis->config().key_prefix, 0), 0u);

  auto set = redis->command({"SET", k, std::string("bin\0ary", 7)});
  ASSERT_TRUE(set.ok()) << set.error().toString();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  auto get = redis->command({"GET", k});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->str, std::string("bin\0ary", 7));

  auto missing = redis->command({"GET", redis->key("absent")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, RedisReply::Type::kNil);

  auto incr = redis->command({"INCRBY", redis->key("n"), "5"});
  ASSERT_TRUE(incr.ok());
  EXPECT_EQ(incr->type, RedisReply::Type::kInteger);
  EXPECT_EQ(incr->integer, 5);

  ASSERT_TRUE(redis->command({"RPUSH", redis->key("l"), "a", "b"}).ok());
  auto range = redis->command({"LRANGE", redis->key("l"), "0", "-1"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->type, RedisReply::Type::kArray);
  ASSERT_EQ(range->elements.size(), 2u);
  EXPECT_EQ(range->elements[1].str, "b");
}

TEST(RedisTest, ServerErrorIsInternalAndConnectionStaysUsable) {
  auto redis = connectOrDie();
  ASSERT_TRUE(redis->command({"SET", redis->key("s"), "text"}).ok());
  auto r = redis->command({"INCR", redis->key("s")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  auto bad = redis->command({"NOSUCHCOMMAND"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(redis->command({"PING"}).ok());
}

TEST(RedisTest, UnreachableServerIsUnavailable) {
  RedisConfig config = testing::testRedisConfig();
  config.port = 1;
  auto r = RedisPool::connect(config);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(RedisTest, BlpopTimesOut) {
  auto redis = connectOrDie();
  const auto start = std::chrono::steady_clock::now();
  auto r = redis->blpop(redis->key("empty"), 0.2);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_FALSE(r->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  // The connection is healthy afterwards.
  EXPECT_TRUE(redis->command({"PING"}).ok());
}

TEST(RedisTest, BlpopReturnsQueuedValue) {
  auto redis = connectOrDie();
  ASSERT_TRUE(redis->command({"RPUSH", redis->key("q"), "first", "second"}).ok());
  auto r = redis->blpop(redis->key("q"), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value_or(""), "first");
}

TEST(RedisTest, PushFromAnotherThreadWakesBlpop) {
  auto redis = connectOrDie();
  const std::string key = redis->key("wake");
  const long long blocked_before = blockedClients(*redis);
  ASSERT_GE(blocked_before, 0);
  const auto start = std::chrono::steady_clock::now();
  auto popped = std::async(std::launch::async, [&] { return redis->blpop(key, 30); });
  // Wait (bounded) until the BLPOP is really blocked on the server, then push.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (blockedClients(*redis) <= blocked_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(blockedClients(*redis), blocked_before) << "BLPOP never blocked";
  ASSERT_TRUE(redis->command({"RPUSH", key, "wake-up"}).ok());
  ASSERT_EQ(popped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = popped.get();
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->value_or(""), "wake-up");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(RedisNonceStoreTest, RefusesReplay) {
  auto redis = connectOrDie();
  RedisNonceStore store(redis);
  const std::string id(64, 'a');
  auto first = store.rememberOnce(id, "nonce-1", 60'000);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_TRUE(*first);
  auto again = store.rememberOnce(id, "nonce-1", 60'000);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_TRUE(*store.rememberOnce(id, "nonce-2", 60'000));
  EXPECT_TRUE(*store.rememberOnce(std::string(64, 'b'), "nonce-1", 60'000));
  // Nonces expire, so Redis does not grow without bound.
  auto ttl = redis->command({"PTTL", redis->key("nonce:" + id + ":nonce-1")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 60'000);
}

TEST(RedisNonceStoreTest, VerifierRefusesReplayThroughRedis) {
  auto redis = connectOrDie();
  RedisNonceStore store(redis);
  ManualClock clock;
  RequestVerifier verifier(clock, store);
  KeyPair key = KeyPair::generate();
  RequestToSign req{"GET", "/v1/jobs", "", std::string(64, '0')};
  const std::string header = makeAuthorization(key, req, clock.nowMillis(), std::string(32, 'c'));
  ASSERT_TRUE(verifier.verify(header, req).ok());
  auto replay = verifier.verify(header, req);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().reason, "refresh-nonce");
}

}  // namespace
}  // namespace dcloud
