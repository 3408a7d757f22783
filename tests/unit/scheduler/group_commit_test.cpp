// Group commit: items that arrive while a batch is in flight form the next batch together, a
// batch never exceeds its bound, every caller gets its own answer (or none: its slow path), and
// stopping applies what is queued.
#include "scheduler/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

namespace dcloud::scheduler {
namespace {

// An apply function that records its batches and can be held at the start of a batch.
struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::vector<int>> batches;
  bool hold = false;
  int in_apply = 0;

  std::vector<std::optional<int>> apply(const std::vector<const int*>& items) {
    std::unique_lock lock(mutex);
    batches.emplace_back();
    for (const int* i : items) batches.back().push_back(*i);
    ++in_apply;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
    std::vector<std::optional<int>> out;
    for (const int* i : items) {
      // Odd items take their slow path.
      out.push_back(*i % 2 ? std::nullopt : std::optional<int>(*i * 10));
    }
    return out;
  }
};

TEST(GroupCommit, ALoneItemIsAppliedAtOnceAndGetsItsAnswer) {
  Recorder r;
  GroupCommit<int, int> group([&](const auto& items) { return r.apply(items); }, 8);
  EXPECT_EQ(group.apply(4), std::optional<int>(40));
  EXPECT_EQ(group.apply(3), std::nullopt) << "the batch sent it down its slow path";
  ASSERT_EQ(r.batches.size(), 2u);
  EXPECT_EQ(r.batches[0], std::vector<int>{4});
}

TEST(GroupCommit, ItemsArrivingDuringABatchFormTheNextBatchsWithinTheBound) {
  Recorder r;
  GroupCommit<int, int> group([&](const auto& items) { return r.apply(items); }, 4);
  {
    std::lock_guard lock(r.mutex);
    r.hold = true;
  }
  auto first = std::async(std::launch::async, [&] { return group.apply(0); });
  {
    std::unique_lock lock(r.mutex);
    r.cv.wait(lock, [&] { return r.in_apply == 1; });
  }
  // Six items queue while the first batch is held.
  std::vector<int> items = {2, 4, 6, 8, 10, 11};
  std::vector<std::future<std::optional<int>>> waiting;
  for (const int& i : items) {
    waiting.push_back(std::async(std::launch::async, [&group, &i] { return group.apply(i); }));
  }
  // Let them all reach the queue (they cannot be applied while the batch is held).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard lock(r.mutex);
    r.hold = false;
  }
  r.cv.notify_all();
  EXPECT_EQ(first.get(), std::optional<int>(0));
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(waiting[i].get(), items[i] % 2 ? std::nullopt : std::optional<int>(items[i] * 10));
  }
  std::lock_guard lock(r.mutex);
  ASSERT_EQ(r.batches.size(), 3u) << "one held batch, then six items in batches of at most 4";
  EXPECT_EQ(r.batches[1].size(), 4u);
  EXPECT_EQ(r.batches[2].size(), 2u);
}

TEST(GroupCommit, AShortAnswerSendsTheRestDownTheirSlowPath) {
  GroupCommit<int, int> group(
      [](const std::vector<const int*>&) { return std::vector<std::optional<int>>{}; }, 8);
  EXPECT_EQ(group.apply(2), std::nullopt);
}

TEST(GroupCommit, StoppingAppliesWhatIsQueued) {
  std::atomic<int> applied{0};
  std::vector<std::future<std::optional<int>>> calls;
  {
    GroupCommit<int, int> group(
        [&](const std::vector<const int*>& items) {
          applied += static_cast<int>(items.size());
          return std::vector<std::optional<int>>(items.size(), 1);
        },
        2);
    static const int kItem = 7;
    for (int i = 0; i < 5; ++i) {
      calls.push_back(std::async(std::launch::async, [&group] { return group.apply(kItem); }));
    }
    for (auto& c : calls) EXPECT_EQ(c.get(), std::optional<int>(1));
  }
  EXPECT_EQ(applied.load(), 5);
}

}  // namespace
}  // namespace dcloud::scheduler
