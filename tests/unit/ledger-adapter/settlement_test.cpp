// Outbox rows to settle transactions: only receipts signed by the payee that describe the row pay.
#include <gtest/gtest.h>

#include "common/json.h"
#include "common/receipt.h"
#include "ledger-adapter/settlement.h"

namespace dcloud::ledger {
namespace {

class SettlementTest : public ::testing::Test {
 protected:
  OutboxRow signedRow(Micros amount) {
    UsageReceipt r;
    r.receipt_id = "11111111-2222-4333-8444-555555555555";
    r.task_id = "bbbbbbbb-2222-4333-8444-555555555555";
    r.job_id = "aaaaaaaa-2222-4333-8444-555555555555";
    r.worker_id = "cccccccc-2222-4333-8444-555555555555";
    r.provider = provider_.id();
    r.cpu_millis = 1000;
    r.wall_millis = 2000;
    OutboxRow row;
    row.id = 7;
    row.receipt_id = r.receipt_id;
    row.task_id = r.task_id;
    row.job_id = r.job_id;
    row.payer = owner_;
    row.payee = provider_.id();
    row.amount = amount;
    row.receipt_json = toJson(receiptToJson(r));
    row.provider_signature = signReceipt(r, provider_);
    return row;
  }

  KeyPair provider_ = KeyPair::generate();
  std::string owner_ = KeyPair::generate().id();
  std::string treasury_ = KeyPair::generate().id();
};

TEST_F(SettlementTest, GoodReceiptBecomesSettle) {
  Result<Transaction> tx = settlementFor(signedRow(1'000'000), treasury_);
  ASSERT_TRUE(tx) << tx.error().toString();
  EXPECT_EQ(tx->kind, TxKind::kSettle);
  EXPECT_EQ(tx->from, owner_);
  EXPECT_EQ(tx->to, provider_.id());
  EXPECT_EQ(tx->amount, 1'000'000);
  EXPECT_EQ(tx->fee, 20'000);
  EXPECT_EQ(tx->treasury, treasury_);
  EXPECT_EQ(tx->receipt_id, "11111111-2222-4333-8444-555555555555");
}

TEST_F(SettlementTest, BadSignatureOrMismatchIsRefused) {
  OutboxRow forged = signedRow(100);
  forged.provider_signature = KeyPair::generate().sign("x");
  Result<Transaction> tx = settlementFor(forged, treasury_);
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, ErrorCode::kUnauthenticated);

  OutboxRow garbage_sig = signedRow(100);
  garbage_sig.provider_signature = "not hex";
  EXPECT_FALSE(settlementFor(garbage_sig, treasury_));

  OutboxRow other_payee = signedRow(100);
  other_payee.payee = KeyPair::generate().id();
  EXPECT_FALSE(settlementFor(other_payee, treasury_));

  OutboxRow other_receipt = signedRow(100);
  other_receipt.receipt_id = "11111111-2222-4333-8444-000000000000";
  EXPECT_FALSE(settlementFor(other_receipt, treasury_));

  OutboxRow not_json = signedRow(100);
  not_json.receipt_json = "{";
  EXPECT_FALSE(settlementFor(not_json, treasury_));

  OutboxRow bad_payer = signedRow(100);
  bad_payer.payer = "no spaces allowed";
  EXPECT_FALSE(settlementFor(bad_payer, treasury_));
}

TEST_F(SettlementTest, BatchSplitsGoodFromBad) {
  std::vector<OutboxRow> rows = {signedRow(10), signedRow(20), signedRow(30)};
  rows[1].provider_signature = KeyPair::generate().sign("y");
  PreparedBatch batch = prepareBatch(rows, treasury_);
  ASSERT_EQ(batch.txs.size(), 2u);
  EXPECT_EQ(batch.tx_rows, (std::vector<std::size_t>{0, 2}));
  ASSERT_EQ(batch.failures.size(), 1u);
  EXPECT_EQ(batch.failures[0].first, 1u);
}

}  // namespace
}  // namespace dcloud::ledger
