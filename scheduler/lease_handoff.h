#pragma once
// Leases booked by this process's dispatcher go straight to a long poll of the same process that
// waits for that worker: no Redis wake-up, and no database read to hand them over (the booking
// marks them delivered in the statement that books them).
//
// The poll side: enter() before looking in the database (a booking after that may come by hand),
// wait() for a hand-over or a poke (work booked without a reservation: read the database), and
// leave() at the end, which returns whatever was handed over and not yet taken. The dispatcher
// side, around each booking commit: reserve() the workers with a waiting poll, book those rows as
// delivered, then fulfil() each reserved worker with what the commit booked for it (nothing when
// the commit failed). A poll that left while reserved is abandoned: fulfil() gives its work to
// another poll of the same worker, or returns false and the dispatcher hands it back to the
// database (releaseAssignments) for the worker's next poll. Nothing handed over is ever dropped.
//
// A worker's poll waits here only while this process leads (books), and then for as long as it
// likes: every booking for its worker reaches it by hand or by a poke, and when the process stops
// leading every poll is poked. A follower's polls wait for Redis wake-ups from the leader.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scheduler/store.h"

namespace dcloud::scheduler {

class LeaseHandoff {
 public:
  using Ticket = std::uint64_t;

  struct Woken {
    std::vector<Assignment> handed;  // booked for the worker and delivered by hand
    bool poked = false;              // booked without a reservation: in the database
  };

  // A long poll for worker_id starts waiting.
  Ticket enter(const std::string& worker_id);
  // Waits up to timeout for a hand-over or a poke; either ends the wait (a later wait() on the
  // same ticket waits again). Returns at once with what came meanwhile.
  Woken wait(Ticket ticket, std::chrono::milliseconds timeout);
  // The poll is done: whatever was handed over and not taken by wait() (the caller delivers it or
  // releases it to the database). A reservation not yet fulfilled is abandoned.
  std::vector<Assignment> leave(Ticket ticket);

  // Of these workers, those with a waiting poll, now reserved: their rows may be booked as
  // delivered, and each must then be fulfilled exactly once.
  std::unordered_set<std::string> reserve(const std::vector<std::string>& worker_ids);
  // Hands a reserved worker what its booking committed (empty: nothing, e.g. the commit failed).
  // False when no poll of the worker is left to take non-empty work: the caller releases it.
  bool fulfil(const std::string& worker_id, const std::vector<Assignment>& assignments);
  // Tells waiting polls of these workers that work was booked for them in the database.
  void poke(const std::vector<std::string>& worker_ids);
  // Tells every waiting poll to look again (this process stopped leading: from now on the
  // leader wakes them through Redis).
  void pokeAll();

  // Polls waiting now (for tests and metrics).
  std::size_t waiting() const;

 private:
  enum class State { kWaiting, kReserved, kHanded, kAbandoned };
  struct Slot {
    std::string worker_id;
    State state = State::kWaiting;
    bool poked = false;
    std::vector<Assignment> handed;
    std::condition_variable cv;
  };
  // The first waiting slot of the worker, or null.
  Slot* waitingSlot(const std::string& worker_id);
  void unindex(Ticket ticket, const std::string& worker_id);

  mutable std::mutex mutex_;
  Ticket next_ = 1;
  std::unordered_map<Ticket, std::unique_ptr<Slot>> slots_;
  // Slots by worker, oldest first (a worker rarely has more than one poll).
  std::unordered_map<std::string, std::vector<Ticket>> by_worker_;
  // The slot reserved for each worker in the round being committed.
  std::unordered_map<std::string, Ticket> reserved_;
};

}  // namespace dcloud::scheduler
