#pragma once
// Group commit: a caller hands in its item and waits while one thread applies every item that
// arrived meanwhile, as one batch (one transaction).
//
// A region's workers finish tasks by the hundred at once. Committed one by one, each completion
// costs a transaction of four round trips and a WAL flush, and under load they queue for
// PostgreSQL's CPU and for each other; a batch costs the same few statements for one item or for
// hundreds. While a batch is in flight the next one gathers, so batches grow with the load and a
// lone item waits for nothing but its own transaction.
//
// The batch function answers per item: a result, or nullopt when the item must take its slow
// path, which the caller then runs on its own thread (so rare, costly cases never hold up a
// batch).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace dcloud::scheduler {

template <typename In, typename Out>
class GroupCommit {
 public:
  // One answer per item, in order. It must not throw.
  using ApplyBatch = std::function<std::vector<std::optional<Out>>(const std::vector<const In*>&)>;

  GroupCommit(ApplyBatch apply, std::size_t max_batch)
      : apply_(std::move(apply)), max_batch_(max_batch) {}
  // Applies what is queued, then stops.
  ~GroupCommit() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues the item and waits for its batch's answer.
  std::optional<Out> apply(const In& item) {
    Waiter waiter{&item, {}};
    auto answer = waiter.answer.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(&waiter);
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    cv_.notify_one();
    return answer.get();
  }

 private:
  struct Waiter {
    const In* item;
    std::promise<std::optional<Out>> answer;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, nothing left to apply
      std::vector<Waiter*> batch;
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      std::vector<const In*> items;
      items.reserve(batch.size());
      for (const Waiter* w : batch) items.push_back(w->item);
      std::vector<std::optional<Out>> answers = apply_(items);
      answers.resize(batch.size());  // a short answer sends the rest down their slow path
      for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i]->answer.set_value(std::move(answers[i]));
      }
      lock.lock();
    }
  }

  ApplyBatch apply_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Waiter*> queue_;
  bool stopping_ = false;
  std::thread thread_;  // started by the first item
};

}  // namespace dcloud::scheduler
