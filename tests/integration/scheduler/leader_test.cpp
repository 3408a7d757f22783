// Two dispatchers on one database: only the leader books; when it stops renewing its lease (the
// shared ManualClock moves past it) the other takes over, and a booking batch carrying the old
// fencing token changes nothing. Completions accepted by a follower's API reach the leader's
// offers through Redis at once, and a finish reported twice frees its slot once.

#include <chrono>
#include <thread>

#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

class LeaderTest : public SchedulerTest {
 protected:
  std::unique_ptr<Dispatcher> makeDispatcher(const std::string& id) {
    DispatcherConfig config;
    config.instance_id = id;
    config.leader_ttl_millis = 10'000;
    config.leader_renew_millis = 3'000;
    config.heartbeat_timeout_millis = 600'000;
    return std::make_unique<Dispatcher>(config, *store_, *signals_, clock_, metrics_);
  }
  std::int64_t leased() {
    return sqlInt("SELECT COUNT(*) FROM scheduler.tasks WHERE state = 'leased'");
  }

  KeyPair owner_ = KeyPair::generate();
  KeyPair provider_ = KeyPair::generate();
};

TEST_F(LeaderTest, OnlyTheLeaderBooksAndAnotherTakesOverWhenTheLeaseLapses) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 8, "0.5");
  auto a = makeDispatcher("scheduler-a");
  auto b = makeDispatcher("scheduler-b");

  submit(owner_, commandJob("1"));
  auto booked_a = a->planOnce();
  ASSERT_TRUE(booked_a.ok()) << booked_a.error().message;
  EXPECT_EQ(*booked_a, 1);
  const std::int64_t token_a = a->fencingToken();
  EXPECT_GT(token_a, 0);

  // b serves but does not plan while a's lease is valid, even after a renewal came due.
  submit(owner_, commandJob("1"));
  auto booked_b = b->planOnce();
  ASSERT_TRUE(booked_b.ok()) << booked_b.error().message;
  EXPECT_EQ(*booked_b, 0);
  EXPECT_EQ(b->fencingToken(), 0);
  EXPECT_EQ(leased(), 1);
  manual_clock_.advanceMillis(5'000);  // a renews here: its lease now runs until +15 s
  EXPECT_EQ(*a->planOnce(), 1);
  EXPECT_EQ(*b->planOnce(), 0);
  EXPECT_EQ(leased(), 2);

  // a stops renewing; once its lease has lapsed b takes over with a newer token.
  submit(owner_, commandJob("1"));
  manual_clock_.advanceMillis(9'000);
  EXPECT_EQ(*b->planOnce(), 0) << "a's renewed lease is still valid";
  manual_clock_.advanceMillis(1'001);
  auto taken = b->planOnce();
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(*taken, 1);
  EXPECT_GT(b->fencingToken(), token_a);
  EXPECT_EQ(leased(), 3);
  EXPECT_EQ(sqlText("SELECT holder FROM scheduler.leader"), "scheduler-b");
  auto late = a->planOnce();
  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_EQ(*late, 0);
  EXPECT_EQ(a->fencingToken(), 0);

  // A batch committed with a's old token (a leader that has not noticed yet) books nothing.
  submit(owner_, commandJob("1"));
  const std::string task =
      sqlText("SELECT id::text FROM scheduler.tasks WHERE state = 'pending' LIMIT 1");
  ASSERT_FALSE(task.empty());
  const std::vector<core::Booking> batch{{task, worker, 500'000}};
  auto stale = store_->commitBookings(batch, token_a);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(sqlText("SELECT state FROM scheduler.tasks WHERE id = '" + task + "'"), "pending");
  EXPECT_EQ(sqlInt("SELECT attempts FROM scheduler.tasks WHERE id = '" + task + "'"), 0);
  EXPECT_EQ(leased(), 3);
  // The same batch with the current token books the task.
  auto fresh = store_->commitBookings(batch, b->fencingToken());
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->woken.size(), 1u);
  ASSERT_EQ(fresh->attempts.size(), 1u);
  EXPECT_EQ(fresh->attempts[0].worker_id, worker);
  EXPECT_EQ(sqlText("SELECT attempt_id::text FROM scheduler.tasks WHERE id = '" + task + "'"),
            fresh->attempts[0].attempt_id);
  EXPECT_EQ(sqlText("SELECT state FROM scheduler.tasks WHERE id = '" + task + "'"), "leased");
  EXPECT_EQ(sqlInt("SELECT booked_token FROM scheduler.tasks WHERE id = '" + task + "'"),
            b->fencingToken());

  // a comes back only after b's lease lapses, with a newer token still.
  manual_clock_.advanceMillis(10'001);
  auto back = a->ensureLeadership();
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back);
  EXPECT_GT(a->fencingToken(), token_a + 1);
}

TEST_F(LeaderTest, AFollowersCompletionFreesTheLeadersSlotAtOnceAndOnlyOnce) {
  fund(owner_.id(), 100 * kMicrosPerCredit);
  const std::string worker = registerWorker(provider_, 1, "0.5");
  auto leader = makeDispatcher("scheduler-a");
  const std::string first = submit(owner_, commandJob("1"));
  const std::string second = submit(owner_, commandJob("1"));
  ASSERT_EQ(*leader->planOnce(), 1) << "one core: one task";
  // The API this test talks to belongs to dispatcher_, which follows.
  ASSERT_EQ(*dispatcher_->planOnce(), 0);
  ASSERT_EQ(dispatcher_->fencingToken(), 0);
  auto leases = lease(provider_, worker, 0);
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].job_id, first);
  ASSERT_EQ(complete(provider_, worker, leases[0], receiptFor(provider_, worker, leases[0], 1000),
                     provider_)
                .status,
            200);
  // The leader's offers are fresh on its clock: without word of the finish the core stays taken.
  EXPECT_EQ(*leader->planOnce(false, false), 0);
  auto taken = leader->receiveFinished(5.0);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(*taken, 1);
  ASSERT_EQ(*leader->planOnce(false, false), 1) << "the freed core goes to the second job";
  EXPECT_EQ(sqlText("SELECT state FROM scheduler.tasks t WHERE job_id = '" + second + "'"),
            "leased");

  // The same finish again (a duplicate message): the core the second job holds stays taken.
  const std::string third = submit(owner_, commandJob("1"));
  ASSERT_TRUE(signals_->publishFinished(leases[0].attempt_id).ok());
  EXPECT_EQ(*leader->receiveFinished(5.0), 1);
  EXPECT_EQ(*leader->planOnce(true, false), 0) << "a finish reported twice frees its slot once";

  // With the leader running, a follower's completion books the third job without any reload
  // (the ManualClock stands still, so the offers never get stale).
  leader->start();
  auto next = lease(provider_, worker, 0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, second);
  ASSERT_EQ(
      complete(provider_, worker, next[0], receiptFor(provider_, worker, next[0], 1000), provider_)
          .status,
      200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = sqlText("SELECT state FROM scheduler.tasks WHERE job_id = '" + third + "'");
    if (state == "leased") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(state, "leased");
  leader->stop();
}

}  // namespace
}  // namespace dcloud::scheduler::testing
