#pragma once
// Wakes the ledger adapter (NOTIFY dcloud_outbox) soon after charges commit, once for many.
//
// The NOTIFY used to sit in every charging transaction. PostgreSQL serializes the commits of
// notifying transactions (one global lock, held from the commit through its WAL flush), so every
// completion in the region waited for every other one's fsync, one at a time. Sent here, after the
// commit and outside it, one NOTIFY covers every charge of the last few milliseconds. A NOTIFY
// lost in a crash costs nothing: the adapter also polls.

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/pg.h"

namespace dcloud::scheduler {

class OutboxNotifier {
 public:
  explicit OutboxNotifier(PgPool& pool) : pool_(pool) {}
  // Sends what is pending, then stops.
  ~OutboxNotifier();
  OutboxNotifier(const OutboxNotifier&) = delete;
  OutboxNotifier& operator=(const OutboxNotifier&) = delete;

  // A charge committed: a NOTIFY follows within a few milliseconds.
  void charged();

 private:
  void run();
  PgPool& pool_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;  // started by the first charge
};

}  // namespace dcloud::scheduler
