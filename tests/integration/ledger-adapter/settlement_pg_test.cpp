// The chain and the outbox settlement on a real PostgreSQL.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/integration/ledger-adapter/outbox_fixture.h"

namespace dcloud::ledger {
namespace {

using SettlementPgTest = OutboxFixture;

TEST_F(SettlementPgTest, MintThenBalance) {
  const std::string alice = KeyPair::generate().id();
  Result<Block> b = store_->append({makeMint(alice, 2'500'000)});
  ASSERT_TRUE(b) << b.error().toString();
  EXPECT_EQ(b->height, 1);  // genesis first
  EXPECT_EQ(account(alice), (Account{alice, 2'500'000, 0}));
  Result<Block> again = store_->append({makeMint(alice, 500'000)});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->height, 2);
  EXPECT_EQ(account(alice).balance, 3'000'000);
  Result<ChainSummary> ok = verifyStoredChain(*pool_, ledger_key_.id());
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ(ok->height, 2);
}

TEST_F(SettlementPgTest, BadMintAppendsNothing) {
  ASSERT_TRUE(store_->ensureGenesis());
  EXPECT_FALSE(store_->append({makeMint("bad id", 5)}));
  EXPECT_FALSE(store_->append({makeMint(KeyPair::generate().id(), -5)}));
  EXPECT_FALSE(store_->append({makeMint(KeyPair::generate().id(), 5), makeMint("", 5)}));
  EXPECT_EQ(scalar("SELECT count(*) FROM ledger.blocks"), "1");
  EXPECT_EQ(scalar("SELECT count(*) FROM ledger.accounts"), "0");
}

TEST_F(SettlementPgTest, BatchPaysFeeToTreasuryAndRaisesReputation) {
  const std::string owner = KeyPair::generate().id();
  const std::string treasury = "treasury";
  KeyPair provider = KeyPair::generate();
  ASSERT_TRUE(store_->append({makeMint(owner, 10'000'000)}));
  addReceipt(owner, provider, 1'000'000);  // fee 20000
  addReceipt(owner, provider, 1'234'575);  // fee 24691.5 -> 24692
  addReceipt(owner, provider, 25);         // fee 0.5 -> 1

  Result<SettleBatchResult> r = store_->settleBatch(500, treasury);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->rows, 3u);
  EXPECT_EQ(r->settled, 3u);
  EXPECT_EQ(r->failed, 0u);
  ASSERT_TRUE(r->height);
  EXPECT_EQ(*r->height, 2);
  const Micros total = 1'000'000 + 1'234'575 + 25;
  const Micros fees = 20'000 + 24'692 + 1;
  EXPECT_EQ(r->amount, total);
  EXPECT_EQ(r->fees, fees);
  EXPECT_EQ(account(owner), (Account{owner, 10'000'000 - total, fees}));
  EXPECT_EQ(account(provider.id()), (Account{provider.id(), total - fees, fees}));
  EXPECT_EQ(account(treasury), (Account{treasury, fees, 0}));
  EXPECT_EQ(scalar("SELECT count(*) FROM scheduler.outbox WHERE settled_at IS NOT NULL AND"
                   " block_height = 2"),
            "3");
  EXPECT_EQ(scalar("SELECT count(*) FROM ledger.settlements WHERE block_height = 2"), "3");

  Result<SettleBatchResult> empty = store_->settleBatch(500, treasury);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->rows, 0u);
  EXPECT_TRUE(verifyStoredChain(*pool_, std::nullopt));
}

TEST_F(SettlementPgTest, SettlingAgainPaysNothingMore) {
  const std::string owner = KeyPair::generate().id();
  KeyPair provider = KeyPair::generate();
  addReceipt(owner, provider, 1'000'000);
  addReceipt(owner, provider, 2'000'000);
  Result<SettleBatchResult> first = store_->settleBatch(500, "treasury");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->settled, 2u);
  const Account owner_after = account(owner);
  const Account provider_after = account(provider.id());
  EXPECT_EQ(owner_after.balance, -3'000'000);  // a settled receipt is always paid
  const std::string height = scalar("SELECT max(height) FROM ledger.blocks");

  // Someone resets the outbox rows: they are marked settled again, at the original block.
  exec("UPDATE scheduler.outbox SET settled_at = NULL, block_height = NULL");
  Result<SettleBatchResult> again = store_->settleBatch(500, "treasury");
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_EQ(again->rows, 2u);
  EXPECT_EQ(again->settled, 0u);
  EXPECT_EQ(again->duplicates, 2u);
  EXPECT_FALSE(again->height);
  EXPECT_EQ(account(owner), owner_after);
  EXPECT_EQ(account(provider.id()), provider_after);
  EXPECT_EQ(scalar("SELECT max(height) FROM ledger.blocks"), height);
  EXPECT_EQ(scalar("SELECT count(*) FROM scheduler.outbox WHERE settled_at IS NOT NULL AND"
                   " block_height = " +
                   height),
            "2");
  EXPECT_TRUE(verifyStoredChain(*pool_, ledger_key_.id()));
}

TEST_F(SettlementPgTest, BadSignatureIsNotPaid) {
  const std::string owner = KeyPair::generate().id();
  KeyPair provider = KeyPair::generate();
  const std::string good = addReceipt(owner, provider, 1'000'000);
  const std::string bad = addReceipt(owner, provider, 5'000'000, /*good_signature=*/false);
  Result<SettleBatchResult> r = store_->settleBatch(500, "treasury");
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->settled, 1u);
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(account(provider.id()).balance, 1'000'000 - 20'000);
  EXPECT_EQ(
      scalar("SELECT settled_at IS NULL FROM scheduler.outbox WHERE receipt_id = '" + bad + "'"),
      "t");
  EXPECT_NE(scalar("SELECT error FROM ledger.settlement_failures WHERE receipt_id = '" + bad + "'")
                .find("signature"),
            std::string::npos);
  EXPECT_EQ(scalar("SELECT count(*) FROM ledger.settlements WHERE receipt_id = '" + bad + "'"),
            "0");
  // Not taken again by later batches.
  Result<SettleBatchResult> next = store_->settleBatch(500, "treasury");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->rows, 0u);
  (void)good;
}

TEST_F(SettlementPgTest, BatchLimitTakesOldestFirst) {
  const std::string owner = KeyPair::generate().id();
  KeyPair provider = KeyPair::generate();
  for (int i = 0; i < 5; ++i) addReceipt(owner, provider, 100 + i);
  Result<SettleBatchResult> r = store_->settleBatch(2, "treasury");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows, 2u);
  EXPECT_EQ(scalar("SELECT string_agg(amount::text, ',' ORDER BY id) FROM scheduler.outbox"
                   " WHERE settled_at IS NOT NULL"),
            "100,101");
}

TEST_F(SettlementPgTest, ConcurrentMintAndSettleKeepHeightsContiguous) {
  const std::string owner = KeyPair::generate().id();
  KeyPair provider = KeyPair::generate();
  constexpr int kMints = 30;
  constexpr int kReceipts = 30;
  std::atomic<bool> failed{false};
  std::thread minter([&] {
    PgLedgerStore own(pool_, ledger_key_, SystemClock::instance());
    for (int i = 0; i < kMints; ++i) {
      if (!own.append({makeMint(owner, 1'000'000)})) failed = true;
    }
  });
  std::thread settler([&] {
    PgLedgerStore own(pool_, ledger_key_, SystemClock::instance());
    for (int i = 0; i < kReceipts; ++i) {
      addReceipt(owner, provider, 10'000);
      if (!own.settleBatch(7, "treasury")) failed = true;
    }
  });
  minter.join();
  settler.join();
  ASSERT_FALSE(failed);
  // Whatever is left in the outbox.
  Result<SettleBatchResult> rest = store_->settleBatch(500, "treasury");
  ASSERT_TRUE(rest);

  EXPECT_EQ(scalar("SELECT count(*) = max(height) + 1 FROM ledger.blocks"), "t");
  EXPECT_EQ(scalar("SELECT count(*) FROM ledger.settlements"), std::to_string(kReceipts));
  EXPECT_EQ(account(owner).balance, kMints * 1'000'000 - kReceipts * 10'000);
  Result<ChainSummary> ok = verifyStoredChain(*pool_, ledger_key_.id());
  ASSERT_TRUE(ok) << ok.error().toString();
}

}  // namespace
}  // namespace dcloud::ledger
