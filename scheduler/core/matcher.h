#pragma once
// An indexed matcher: the same answer as pickOffer (matching.h) without scanning every offer.
//
// Offers are split into GPU-less hosts and GPU hosts. For every demand shape (cores, gpus reduced
// by their greatest common divisor, so all shapes that rank offers alike share one index) and
// host class, the offers are sorted once by (price for that shape, worker id); over that order a
// segment tree keeps, per subtree, the largest free cores, memory, GPUs and disk and the highest
// reputation. Finding the cheapest fitting offer is a left-to-right descent that skips every
// subtree which cannot hold the task or cannot beat the best found so far; the bid turns into a
// prefix of the order by binary search. Booking updates one leaf path per index of the offer's
// class. Indexes are built lazily, the first time a shape is asked for.
//
// Cost: O(log n) per pick and per booking for the usual case; a subtree whose maxima come from
// different offers (many cores on one, much memory on another) can make a descent visit more
// nodes, never more than the scan would. Pure: no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/core/matching.h"

namespace dcloud::core {

class Matcher {
 public:
  explicit Matcher(std::vector<Offer> offers, bool keep_gpu_hosts_free = true);

  // The index of the best offer for the demand (same rule as pickOffer), or nullopt.
  std::optional<std::size_t> pick(const TaskDemand& demand);
  // Takes `need` from offer `i`'s free resources; pick() said it fits.
  void book(std::size_t i, const Resources& need);
  // Replaces offer `i`'s free resources, e.g. when a task on it finished.
  void setFree(std::size_t i, const Resources& free);

  const std::vector<Offer>& offers() const { return offers_; }
  // Hands the offers (with their free resources as booked) back; the matcher is empty after.
  std::vector<Offer> takeOffers();
  std::size_t indexCount() const { return indexes_.size(); }

 private:
  // Per-subtree maxima; a padding leaf holds values no demand fits.
  struct Max {
    std::int64_t memory_mb;
    std::int64_t disk_mb;
    Micros reputation;
    std::int64_t gpu_memory_mb;
    std::int64_t gpu_throughput;
    std::int32_t cores;
    std::int32_t gpus;
  };
  struct Index {
    std::int64_t unit_cores = 0;  // the shape, reduced
    std::int64_t unit_gpus = 0;
    bool gpu_hosts = false;
    std::vector<std::uint32_t> order;     // offer per position
    std::vector<Micros> unit_price;       // price of the reduced shape per position, ascending
    std::vector<std::uint32_t> position;  // position per offer (offers of the other class: unused)
    std::vector<Max> tree;                // 1-based heap layout, leaves at [leaves, 2 * leaves)
    std::size_t leaves = 1;
  };
  struct Search {
    const Index* index;
    const TaskDemand* demand;
    std::size_t from;   // positions before this are known not to fit
    std::size_t limit;  // positions at or after this cost more than the bid
    std::optional<std::size_t> best;
    Micros best_unit_price;
    std::int32_t best_cores;
  };
  // A demand as far as fitting goes (not the bid), per host class.
  // GPU qualities are part of it (they are fixed per offer); a blocklist is not: a demand with
  // excluded workers reads the cursor but never moves it, since what it skipped may fit others.
  struct CursorKey {
    std::int64_t memory_mb, disk_mb;
    Micros min_reputation;
    std::int64_t gpu_memory_mb, min_gpu_throughput;
    std::string gpu_model;
    int cores, gpus;
    bool gpu_hosts;
    bool operator==(const CursorKey&) const = default;
  };
  struct CursorKeyHash {
    std::size_t operator()(const CursorKey& k) const;
  };
  struct Candidate {
    std::size_t offer;
    Micros price;
  };

  static Max combine(const Max& a, const Max& b);
  Max leafOf(const Offer& o) const;
  Index& indexFor(std::int64_t cores, std::int64_t gpus, bool gpu_hosts);
  void buildIndex(Index& index);
  std::optional<Candidate> bestIn(const TaskDemand& demand, bool gpu_hosts);
  void descend(Search& s, std::size_t node, std::size_t lo, std::size_t hi) const;
  void refresh(std::size_t i);

  std::vector<Offer> offers_;
  bool keep_gpu_hosts_free_;
  std::vector<Index> indexes_;
  std::unordered_map<std::uint64_t, std::size_t> index_of_;
  // Per demand and host class: the first position in its index that may still fit.
  std::unordered_map<CursorKey, std::uint32_t, CursorKeyHash> cursor_;
  bool has_gpu_hosts_ = false;
  bool has_cpu_hosts_ = false;
};

// planBookings over a matcher that lives across rounds (the index is kept); the matcher's offers
// lose the booked resources. Same rules as planBookings in matching.h; options.keep_gpu_hosts_free
// is the matcher's own setting here.
std::vector<Booking> planBookings(const std::vector<QueuedTask>& queue, Matcher& matcher,
                                  const PlanOptions& options = {});

}  // namespace dcloud::core
