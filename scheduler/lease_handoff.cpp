#include "scheduler/lease_handoff.h"

#include <algorithm>

namespace dcloud::scheduler {

LeaseHandoff::Ticket LeaseHandoff::enter(const std::string& worker_id) {
  std::lock_guard lock(mutex_);
  const Ticket ticket = next_++;
  auto slot = std::make_unique<Slot>();
  slot->worker_id = worker_id;
  slots_.emplace(ticket, std::move(slot));
  by_worker_[worker_id].push_back(ticket);
  return ticket;
}

LeaseHandoff::Woken LeaseHandoff::wait(Ticket ticket, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto it = slots_.find(ticket);
  if (it == slots_.end()) return {};
  Slot& slot = *it->second;
  slot.cv.wait_for(lock, timeout, [&] { return slot.state == State::kHanded || slot.poked; });
  Woken out;
  out.poked = slot.poked;
  slot.poked = false;
  if (slot.state == State::kHanded) {
    out.handed = std::move(slot.handed);
    slot.handed.clear();
    slot.state = State::kWaiting;
  }
  return out;
}

std::vector<Assignment> LeaseHandoff::leave(Ticket ticket) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(ticket);
  if (it == slots_.end()) return {};
  Slot& slot = *it->second;
  unindex(ticket, slot.worker_id);
  if (slot.state == State::kReserved) {
    // The dispatcher is committing work for this poll: fulfil() finds it abandoned and passes
    // the work on (and forgets the slot).
    slot.state = State::kAbandoned;
    return {};
  }
  std::vector<Assignment> left = std::move(slot.handed);
  slots_.erase(it);
  return left;
}

std::unordered_set<std::string> LeaseHandoff::reserve(const std::vector<std::string>& worker_ids) {
  std::lock_guard lock(mutex_);
  std::unordered_set<std::string> out;
  for (const auto& worker : worker_ids) {
    if (out.count(worker) || reserved_.count(worker)) continue;
    auto list = by_worker_.find(worker);
    if (list == by_worker_.end()) continue;
    for (Ticket t : list->second) {
      Slot& slot = *slots_.at(t);
      if (slot.state != State::kWaiting) continue;
      slot.state = State::kReserved;
      reserved_.emplace(worker, t);
      out.insert(worker);
      break;
    }
  }
  return out;
}

bool LeaseHandoff::fulfil(const std::string& worker_id,
                          const std::vector<Assignment>& assignments) {
  std::lock_guard lock(mutex_);
  auto r = reserved_.find(worker_id);
  if (r == reserved_.end()) return assignments.empty();
  const Ticket ticket = r->second;
  reserved_.erase(r);
  auto it = slots_.find(ticket);
  Slot* slot = it == slots_.end() ? nullptr : it->second.get();
  if (slot && slot->state == State::kAbandoned) {
    slots_.erase(it);
    slot = nullptr;
  }
  if (assignments.empty()) {
    if (slot) slot->state = State::kWaiting;
    return true;
  }
  if (!slot) {
    // Its poll left: another poll of the same worker takes the work, if one waits.
    slot = waitingSlot(worker_id);
    if (!slot) return false;
  }
  slot->state = State::kHanded;
  slot->handed.insert(slot->handed.end(), assignments.begin(), assignments.end());
  slot->cv.notify_one();
  return true;
}

void LeaseHandoff::poke(const std::vector<std::string>& worker_ids) {
  std::lock_guard lock(mutex_);
  for (const auto& worker : worker_ids) {
    auto list = by_worker_.find(worker);
    if (list == by_worker_.end()) continue;
    for (Ticket t : list->second) {
      Slot& slot = *slots_.at(t);
      slot.poked = true;
      slot.cv.notify_one();
    }
  }
}

void LeaseHandoff::pokeAll() {
  std::lock_guard lock(mutex_);
  for (auto& [ticket, slot] : slots_) {
    slot->poked = true;
    slot->cv.notify_one();
  }
}

std::size_t LeaseHandoff::waiting() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [ticket, slot] : slots_) {
    if (slot->state != State::kAbandoned) ++n;
  }
  return n;
}

LeaseHandoff::Slot* LeaseHandoff::waitingSlot(const std::string& worker_id) {
  auto list = by_worker_.find(worker_id);
  if (list == by_worker_.end()) return nullptr;
  for (Ticket t : list->second) {
    Slot& slot = *slots_.at(t);
    if (slot.state == State::kWaiting) return &slot;
  }
  return nullptr;
}

void LeaseHandoff::unindex(Ticket ticket, const std::string& worker_id) {
  auto list = by_worker_.find(worker_id);
  if (list == by_worker_.end()) return;
  std::erase(list->second, ticket);
  if (list->second.empty()) by_worker_.erase(list);
}

}  // namespace dcloud::scheduler
