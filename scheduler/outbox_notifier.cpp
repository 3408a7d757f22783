#include "scheduler/outbox_notifier.h"

#include <chrono>

#include "common/log.h"

namespace dcloud::scheduler {

namespace {
// Charges within this long of a NOTIFY share the next one.
constexpr std::chrono::milliseconds kCoalesce{5};
}  // namespace

OutboxNotifier::~OutboxNotifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxNotifier::charged() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_one();
}

void OutboxNotifier::run() {
  Logger log("outbox");
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) break;  // stopping, nothing left to send
    pending_ = false;
    lock.unlock();
    Status sent = pool_.withStatus([](pqxx::connection& c) -> Status {
      pqxx::nontransaction w(c);
      w.exec0("NOTIFY dcloud_outbox");
      return okStatus();
    });
    if (!sent.ok()) log.warn("cannot wake the ledger adapter: " + sent.error().message);
    lock.lock();
    if (!stopping_) cv_.wait_for(lock, kCoalesce, [&] { return stopping_; });
  }
}

}  // namespace dcloud::scheduler
