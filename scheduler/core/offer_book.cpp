#include "scheduler/core/offer_book.h"

#include <utility>

namespace dcloud::core {

void OfferBook::reset(std::vector<Offer> idle, std::vector<ActiveAttempt> active) {
  idle_ = std::move(idle);
  used_.assign(idle_.size(), Resources{0, 0, 0, 0});
  offer_index_.clear();
  offer_index_.reserve(idle_.size());
  for (std::size_t i = 0; i < idle_.size(); ++i) offer_index_.emplace(idle_[i].worker_id, i);
  active_.clear();
  active_.reserve(active.size());
  for (auto& a : active) booked(a);
}

void OfferBook::booked(const ActiveAttempt& attempt) {
  if (!active_.emplace(attempt.attempt_id, attempt).second) return;
  apply(attempt, 1);
}

bool OfferBook::finished(const std::string& attempt_id) {
  auto it = active_.find(attempt_id);
  if (it == active_.end()) return false;
  apply(it->second, -1);
  active_.erase(it);
  return true;
}

void OfferBook::apply(const ActiveAttempt& attempt, int sign) {
  auto it = offer_index_.find(attempt.worker_id);
  if (it == offer_index_.end()) return;
  Resources& u = used_[it->second];
  u.cores += sign * attempt.need.cores;
  u.memory_mb += sign * attempt.need.memory_mb;
  u.gpus += sign * attempt.need.gpus;
  u.disk_mb += sign * attempt.need.disk_mb;
}

std::vector<Offer> OfferBook::offers() const {
  std::vector<Offer> out = idle_;
  for (std::size_t i = 0; i < out.size(); ++i) {
    Resources& f = out[i].free;
    f.cores -= used_[i].cores;
    f.memory_mb -= used_[i].memory_mb;
    f.gpus -= used_[i].gpus;
    f.disk_mb -= used_[i].disk_mb;
  }
  return out;
}

}  // namespace dcloud::core
