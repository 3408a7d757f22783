// LeaseHandoff: bookings of this process's dispatcher reach a waiting poll by hand; nothing handed
// over is dropped when a poll leaves at the wrong moment.
#include "scheduler/lease_handoff.h"

#include <gtest/gtest.h>

#include <thread>

namespace dcloud::scheduler {
namespace {

using std::chrono::milliseconds;

Assignment task(const std::string& attempt) {
  Assignment a;
  a.task_id = "task-" + attempt;
  a.attempt_id = attempt;
  return a;
}

TEST(LeaseHandoff, ReservedWorkReachesTheWaitingPoll) {
  LeaseHandoff handoff;
  const auto ticket = handoff.enter("w1");
  // Only workers with a waiting poll are reserved.
  EXPECT_EQ(handoff.reserve({"w1", "w2"}), (std::unordered_set<std::string>{"w1"}));
  EXPECT_TRUE(handoff.fulfil("w1", {task("a1")}));
  auto woken = handoff.wait(ticket, milliseconds(0));
  ASSERT_EQ(woken.handed.size(), 1u);
  EXPECT_EQ(woken.handed[0].attempt_id, "a1");
  EXPECT_FALSE(woken.poked);
  EXPECT_TRUE(handoff.leave(ticket).empty());
  EXPECT_EQ(handoff.waiting(), 0u);
}

TEST(LeaseHandoff, AWaitIsEndedByAHandOverFromAnotherThread) {
  LeaseHandoff handoff;
  const auto ticket = handoff.enter("w1");
  LeaseHandoff::Woken woken;
  std::thread poll([&] { woken = handoff.wait(ticket, milliseconds(60'000)); });
  ASSERT_EQ(handoff.reserve({"w1"}).size(), 1u);
  ASSERT_TRUE(handoff.fulfil("w1", {task("a1"), task("a2")}));
  poll.join();  // returns at once, not after a minute
  EXPECT_EQ(woken.handed.size(), 2u);
  handoff.leave(ticket);
}

TEST(LeaseHandoff, WorkHandedToAPollThatStoppedWaitingComesBackWhenItLeaves) {
  LeaseHandoff handoff;
  const auto ticket = handoff.enter("w1");
  ASSERT_EQ(handoff.reserve({"w1"}).size(), 1u);
  ASSERT_TRUE(handoff.fulfil("w1", {task("a1")}));
  auto left = handoff.leave(ticket);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].attempt_id, "a1");
}

TEST(LeaseHandoff, APollThatLeftWhileReservedPassesItsWorkOnOrBack) {
  LeaseHandoff handoff;
  // Alone: the dispatcher is told to give the work back to the database.
  const auto alone = handoff.enter("w1");
  ASSERT_EQ(handoff.reserve({"w1"}).size(), 1u);
  EXPECT_TRUE(handoff.leave(alone).empty());
  EXPECT_FALSE(handoff.fulfil("w1", {task("a1")}));
  EXPECT_EQ(handoff.waiting(), 0u);
  // With another poll of the same worker waiting: that one takes it.
  const auto first = handoff.enter("w1");
  const auto second = handoff.enter("w1");
  ASSERT_EQ(handoff.reserve({"w1"}).size(), 1u);
  EXPECT_TRUE(handoff.leave(first).empty());
  EXPECT_TRUE(handoff.fulfil("w1", {task("a2")}));
  auto woken = handoff.wait(second, milliseconds(0));
  ASSERT_EQ(woken.handed.size(), 1u);
  EXPECT_EQ(woken.handed[0].attempt_id, "a2");
  handoff.leave(second);
}

TEST(LeaseHandoff, AnEmptyHandOverFreesTheReservation) {
  LeaseHandoff handoff;
  const auto ticket = handoff.enter("w1");
  ASSERT_EQ(handoff.reserve({"w1"}).size(), 1u);
  // Reserved for this round: a second reservation finds no free poll.
  EXPECT_TRUE(handoff.reserve({"w1"}).empty());
  EXPECT_TRUE(handoff.fulfil("w1", {}));  // the commit booked it nothing
  EXPECT_TRUE(handoff.wait(ticket, milliseconds(0)).handed.empty());
  EXPECT_EQ(handoff.reserve({"w1"}).size(), 1u);
  EXPECT_TRUE(handoff.fulfil("w1", {}));
  handoff.leave(ticket);
  // Nothing reserved: an empty hand-over is fine, work is not.
  EXPECT_TRUE(handoff.fulfil("w9", {}));
  EXPECT_FALSE(handoff.fulfil("w9", {task("a1")}));
}

TEST(LeaseHandoff, PokesReachOnlyTheirWorkersPollsUntilEveryoneIsPoked) {
  LeaseHandoff handoff;
  const auto one = handoff.enter("w1");
  const auto two = handoff.enter("w2");
  handoff.poke({"w1", "w3"});
  EXPECT_TRUE(handoff.wait(one, milliseconds(0)).poked);
  EXPECT_FALSE(handoff.wait(two, milliseconds(0)).poked);
  // A poke is taken once.
  EXPECT_FALSE(handoff.wait(one, milliseconds(0)).poked);
  handoff.pokeAll();
  EXPECT_TRUE(handoff.wait(one, milliseconds(0)).poked);
  EXPECT_TRUE(handoff.wait(two, milliseconds(0)).poked);
  handoff.leave(one);
  handoff.leave(two);
  EXPECT_EQ(handoff.waiting(), 0u);
}

}  // namespace
}  // namespace dcloud::scheduler
