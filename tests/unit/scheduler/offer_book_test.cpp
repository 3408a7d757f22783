// The dispatcher's in-memory offers: free resources follow bookings and finishes by attempt id,
// and a reload replaces what was counted instead of adding to it.
#include "scheduler/core/offer_book.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dcloud::core {
namespace {

Offer idleOffer(const std::string& id, int cores, std::int64_t memory_mb = 8192, int gpus = 0) {
  Offer o;
  o.worker_id = id;
  o.provider = "p-" + id;
  o.capacity = {cores, memory_mb, gpus, 10'000};
  o.free = o.capacity;
  return o;
}

ActiveAttempt attempt(const std::string& id, const std::string& worker, int cores,
                      std::int64_t memory_mb = 1024, int gpus = 0) {
  return {id, worker, {cores, memory_mb, gpus, 0}};
}

Resources freeOf(const OfferBook& book, const std::string& worker) {
  for (const auto& o : book.offers())
    if (o.worker_id == worker) return o.free;
  ADD_FAILURE() << "no offer for " << worker;
  return {};
}

TEST(OfferBook, ActiveAttemptsOfTheSnapshotAreSubtractedFromIdleResources) {
  OfferBook book;
  book.reset({idleOffer("w1", 8), idleOffer("w2", 4)},
             {attempt("a1", "w1", 2), attempt("a2", "w1", 1, 512), attempt("a3", "w2", 4)});
  EXPECT_EQ(freeOf(book, "w1").cores, 5);
  EXPECT_EQ(freeOf(book, "w1").memory_mb, 8192 - 1536);
  EXPECT_EQ(freeOf(book, "w2").cores, 0);
  EXPECT_EQ(book.activeCount(), 3u);
  // Order is the reload's order (the planner's ties depend on it).
  ASSERT_EQ(book.offers().size(), 2u);
  EXPECT_EQ(book.offers()[0].worker_id, "w1");
}

TEST(OfferBook, BookingTakesAndFinishingGivesBackExactlyOnce) {
  OfferBook book;
  book.reset({idleOffer("w1", 4, 8192, 2)}, {});
  book.booked(attempt("a1", "w1", 2, 2048, 1));
  book.booked(attempt("a1", "w1", 2, 2048, 1));  // the same attempt again: held once
  EXPECT_EQ(freeOf(book, "w1").cores, 2);
  EXPECT_EQ(freeOf(book, "w1").gpus, 1);
  EXPECT_TRUE(book.finished("a1"));
  EXPECT_FALSE(book.finished("a1")) << "a second finish of one attempt frees nothing";
  EXPECT_EQ(freeOf(book, "w1").cores, 4);
  EXPECT_EQ(freeOf(book, "w1").memory_mb, 8192);
  EXPECT_EQ(freeOf(book, "w1").gpus, 2);
}

TEST(OfferBook, AFinishReportedAfterAReloadThatNoLongerHeldTheAttemptChangesNothing) {
  OfferBook book;
  book.reset({idleOffer("w1", 4)}, {attempt("a1", "w1", 1), attempt("a2", "w1", 1)});
  // a1 finished and was committed before the reload's snapshot: the snapshot holds only a2 and
  // a newly booked a3. The finish of a1, applied after the reload, must not free a core again.
  book.reset({idleOffer("w1", 4)}, {attempt("a2", "w1", 1), attempt("a3", "w1", 1)});
  EXPECT_FALSE(book.finished("a1"));
  EXPECT_EQ(freeOf(book, "w1").cores, 2);
  // a2 finished after the snapshot: applied after the reload, it frees its core.
  EXPECT_TRUE(book.finished("a2"));
  EXPECT_EQ(freeOf(book, "w1").cores, 3);
}

TEST(OfferBook, AttemptsOnWorkersWithoutAnOfferAreHeldButFreeNothing) {
  OfferBook book;
  book.reset({idleOffer("w1", 2)}, {attempt("a1", "gone", 1)});
  EXPECT_EQ(book.activeCount(), 1u);
  EXPECT_EQ(freeOf(book, "w1").cores, 2);
  EXPECT_TRUE(book.finished("a1"));
  EXPECT_EQ(freeOf(book, "w1").cores, 2);
}

TEST(OfferBook, EmptyUntilTheFirstReload) {
  OfferBook book;
  EXPECT_TRUE(book.empty());
  EXPECT_TRUE(book.offers().empty());
  EXPECT_FALSE(book.finished("a1"));
  book.reset({idleOffer("w1", 1)}, {});
  EXPECT_FALSE(book.empty());
}

}  // namespace
}  // namespace dcloud::core
