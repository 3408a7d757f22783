#pragma once
// The dispatcher's picture of the cluster between reloads from PostgreSQL: every live offer with
// its free resources, kept current by the attempts it books and the attempts that finish, so a
// planning round needs no database read.
//
// Free resources are derived, never adjusted blindly: an offer's free resources are its idle
// resources (capacity less backup placements, as loaded) less the needs of the attempts active on
// it. Attempts are known by id, so a finish reported twice, or reported for an attempt a reload
// no longer holds, changes nothing; and a reload replaces the active set wholesale, so nothing
// counted before it can be counted again after it. The caller applies the finishes it learned
// during a reload after the reload (a finish committed before the reload's snapshot names an
// attempt the snapshot does not hold; one committed after it removes what the snapshot held).

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/core/matching.h"

namespace dcloud::core {

// An attempt holding resources on a worker (leased or running).
struct ActiveAttempt {
  std::string attempt_id;
  std::string worker_id;
  Resources need;
};

class OfferBook {
 public:
  // Replaces everything: `idle` are the live offers with nothing running (their `free` is the
  // capacity less backup placements), `active` the attempts holding resources at the same moment.
  // An attempt on a worker without an offer (lost, or not yet registered) is kept: it frees nothing
  // when it finishes, but a reload that brings its worker back counts it.
  void reset(std::vector<Offer> idle, std::vector<ActiveAttempt> active);
  // An attempt booked since the last reset (ignored when its id is already held).
  void booked(const ActiveAttempt& attempt);
  // An attempt that no longer holds its resources; false when the book did not hold it.
  bool finished(const std::string& attempt_id);

  // The offers with their free resources now, in the order reset() gave them.
  std::vector<Offer> offers() const;
  bool empty() const { return idle_.empty(); }
  std::size_t activeCount() const { return active_.size(); }

 private:
  void apply(const ActiveAttempt& attempt, int sign);
  std::vector<Offer> idle_;
  std::vector<Resources> used_;                               // per offer in idle_
  std::unordered_map<std::string, std::size_t> offer_index_;  // worker id -> position in idle_
  std::unordered_map<std::string, ActiveAttempt> active_;     // attempt id -> attempt
};

}  // namespace dcloud::core
