// Appends through the shared engine on the in-memory store: atomicity, idempotent settlement,
// replay and tamper detection.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "ledger-adapter/memory_ledger_store.h"

namespace dcloud::ledger {
namespace {

const std::string kPayer(64, 'a');
const std::string kPayee(64, 'b');
const std::string kTreasury(64, 'c');

Transaction settle(Micros amount, const std::string& receipt) {
  return makeSettle(kPayer, kPayee, amount, kTreasury, receipt,
                    "aaaaaaaa-2222-4333-8444-555555555555", "bbbbbbbb-2222-4333-8444-555555555555");
}

class MemoryStoreTest : public ::testing::Test {
 protected:
  KeyPair key_ = KeyPair::generate();
  ManualClock clock_;
  MemoryLedgerStore store_{key_, clock_};
};

TEST_F(MemoryStoreTest, FirstAppendCreatesGenesis) {
  Result<AppendOutcome> out = store_.append({makeMint(kPayer, 5)});
  ASSERT_TRUE(out) << out.error().toString();
  ASSERT_TRUE(out->block);
  EXPECT_EQ(out->block->height, 1);
  MemoryLedgerState s = store_.snapshot();
  ASSERT_EQ(s.blocks.size(), 2u);
  EXPECT_EQ(s.blocks[0].payload, "[]");
  EXPECT_EQ(s.accounts[kPayer].balance, 5);
  EXPECT_TRUE(store_.verify());
}

TEST_F(MemoryStoreTest, SettlingTwicePaysOnce) {
  const std::string receipt = "11111111-2222-4333-8444-555555555555";
  ASSERT_TRUE(store_.append({makeMint(kPayer, 1'000'000)}));
  Result<AppendOutcome> first = store_.append({settle(500'000, receipt)});
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->block);
  EXPECT_EQ(first->settled.at(receipt), 2);
  MemoryLedgerState after_first = store_.snapshot();

  Result<AppendOutcome> again = store_.append({settle(500'000, receipt)});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->block);  // nothing left to append
  EXPECT_EQ(again->duplicates, std::vector<std::size_t>{0});
  EXPECT_EQ(again->settled.at(receipt), 2);  // points at the block that paid
  MemoryLedgerState after_again = store_.snapshot();
  EXPECT_EQ(after_again.blocks.size(), after_first.blocks.size());
  EXPECT_EQ(after_again.accounts, after_first.accounts);

  // Twice within one batch pays once too.
  const std::string other = "11111111-2222-4333-8444-000000000009";
  Result<AppendOutcome> both = store_.append({settle(10'000, other), settle(10'000, other)});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->applied.size(), 1u);
  EXPECT_EQ(both->duplicates, std::vector<std::size_t>{1});
  EXPECT_EQ(store_.snapshot().accounts[kPayer].balance, 1'000'000 - 500'000 - 10'000);
  EXPECT_TRUE(store_.verify());
}

TEST_F(MemoryStoreTest, RejectedTransactionsAreSkipped) {
  Result<AppendOutcome> out =
      store_.append({makeMint(kPayer, 10), makeTransfer(kPayee, kPayer, 5), makeMint(kPayee, 3)});
  ASSERT_TRUE(out);
  ASSERT_EQ(out->rejected.size(), 1u);
  EXPECT_EQ(out->rejected[0].first, 1u);
  EXPECT_EQ(out->applied.size(), 2u);
  MemoryLedgerState s = store_.snapshot();
  EXPECT_EQ(s.accounts[kPayer].balance, 10);
  EXPECT_EQ(s.accounts[kPayee].balance, 3);
  EXPECT_TRUE(store_.verify());
}

TEST_F(MemoryStoreTest, HeightsAreContiguousAndTimesMonotonic) {
  for (int i = 0; i < 5; ++i) {
    clock_.advanceMillis(i % 2 == 0 ? 1000 : -3000);  // the clock may step back
    ASSERT_TRUE(store_.append({makeMint(kPayer, 1)}));
  }
  MemoryLedgerState s = store_.snapshot();
  ASSERT_EQ(s.blocks.size(), 6u);
  for (std::size_t i = 0; i < s.blocks.size(); ++i) {
    EXPECT_EQ(s.blocks[i].height, static_cast<std::int64_t>(i));
    if (i > 0) {
      EXPECT_GE(s.blocks[i].created_at_ms, s.blocks[i - 1].created_at_ms);
    }
  }
  EXPECT_TRUE(store_.verify());
}

TEST_F(MemoryStoreTest, VerifyCatchesTampering) {
  ASSERT_TRUE(store_.append({makeMint(kPayer, 1'000'000)}));
  ASSERT_TRUE(store_.append({settle(100'000, "11111111-2222-4333-8444-555555555555")}));
  ASSERT_TRUE(store_.verify());
  const MemoryLedgerState good = store_.snapshot();

  MemoryLedgerState s = good;
  s.blocks[1].payload = encodePayload({makeMint(kPayer, 9'000'000)});
  store_.restore(s);
  Status bad = store_.verify();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("block 1:", 0), 0u) << bad.error().message;

  s = good;
  s.accounts[kPayee].balance += 1;
  store_.restore(s);
  EXPECT_FALSE(store_.verify());

  s = good;
  s.settlements.clear();
  store_.restore(s);
  EXPECT_FALSE(store_.verify());

  s = good;
  s.blocks.erase(s.blocks.begin() + 1);
  store_.restore(s);
  EXPECT_FALSE(store_.verify());

  store_.restore(good);
  EXPECT_TRUE(store_.verify());
}

}  // namespace
}  // namespace dcloud::ledger
