#include "common/receipt.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace dcloud {
namespace {

class ReceiptTest : public ::testing::Test {
 protected:
  UsageReceipt sample() const {
    UsageReceipt r;
    r.receipt_id = "5f0c6f8e-8b1c-4c3e-9a57-0f7a2d3c4b5a";
    r.task_id = "task-1";
    r.job_id = "job-1";
    r.worker_id = "worker-1";
    r.provider = provider_.id();
    r.cpu_millis = 1234;
    r.wall_millis = 5678;
    r.peak_memory_bytes = 1 << 30;
    r.bytes_out = 4096;
    r.exit_code = 0;
    return r;
  }

  JsonObject sampleJson() const {
    // Through text, so values carry the types a received document has.
    return *parseJsonObject(toJson(receiptToJson(sample())));
  }

  KeyPair provider_ = KeyPair::generate();
};

TEST_F(ReceiptTest, SigningStringFormat) {
  UsageReceipt r = sample();
  r.provider = "p";
  r.exit_code = -9;
  EXPECT_EQ(receiptSigningString(r),
            "dcloud-receipt-v1\n5f0c6f8e-8b1c-4c3e-9a57-0f7a2d3c4b5a\ntask-1\njob-1\nworker-1\np\n"
            "1234\n5678\n1073741824\n4096\n-9");
}

TEST_F(ReceiptTest, SignedReceiptVerifies) {
  UsageReceipt r = sample();
  EXPECT_TRUE(verifyReceipt(r, signReceipt(r, provider_)));
}

TEST_F(ReceiptTest, AnyAlteredFieldFailsVerification) {
  const UsageReceipt original = sample();
  const std::string sig = signReceipt(original, provider_);
  const std::vector<std::function<void(UsageReceipt&)>> alterations = {
      [](UsageReceipt& r) { r.receipt_id += "x"; },
      [](UsageReceipt& r) { r.task_id = "task-2"; },
      [](UsageReceipt& r) { r.job_id = "job-2"; },
      [](UsageReceipt& r) { r.worker_id = "worker-2"; },
      [](UsageReceipt& r) { r.provider = KeyPair::generate().id(); },
      [](UsageReceipt& r) { r.cpu_millis += 1; },
      [](UsageReceipt& r) { r.wall_millis -= 1; },
      [](UsageReceipt& r) { r.peak_memory_bytes *= 2; },
      [](UsageReceipt& r) { r.bytes_out = 0; },
      [](UsageReceipt& r) { r.exit_code = 1; },
      // Moving text across a field boundary changes the signed string too.
      [](UsageReceipt& r) {
        r.task_id = "task-1\njob-1";
        r.job_id = "";
      },
  };
  for (std::size_t i = 0; i < alterations.size(); ++i) {
    UsageReceipt r = original;
    alterations[i](r);
    EXPECT_FALSE(verifyReceipt(r, sig)) << "alteration " << i;
  }
  EXPECT_FALSE(verifyReceipt(original, signReceipt(original, KeyPair::generate())));
  EXPECT_FALSE(verifyReceipt(original, ""));
}

TEST_F(ReceiptTest, JsonRoundTrip) {
  auto r = receiptFromJson(sampleJson());
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(receiptSigningString(*r), receiptSigningString(sample()));
  UsageReceipt failed = sample();
  failed.exit_code = -1;
  auto back = receiptFromJson(*parseJsonObject(toJson(receiptToJson(failed))));
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(back->exit_code, -1);
}

TEST_F(ReceiptTest, EveryFieldIsRequired) {
  for (const std::string& name : sampleJson()->getNames()) {
    JsonObject o = sampleJson();
    o->remove(name);
    auto r = receiptFromJson(o);
    ASSERT_FALSE(r.ok()) << "accepted a receipt without " << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(receiptFromJson(nullptr).ok());
}

TEST_F(ReceiptTest, UnknownFieldIsRefused) {
  JsonObject o = sampleJson();
  o->set("bonus", 1);
  auto r = receiptFromJson(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ReceiptTest, NegativeAndMistypedNumbersAreRefused) {
  for (const char* name : {"cpu_millis", "wall_millis", "peak_memory_bytes", "bytes_out"}) {
    JsonObject negative = sampleJson();
    negative->set(name, -1);
    EXPECT_FALSE(receiptFromJson(negative).ok()) << name;
    JsonObject text = sampleJson();
    text->set(name, "12");
    EXPECT_FALSE(receiptFromJson(text).ok()) << name;
    JsonObject fraction = sampleJson();
    fraction->set(name, 1.5);
    EXPECT_FALSE(receiptFromJson(fraction).ok()) << name;
  }
  for (int code : {256, -256, 100000}) {
    JsonObject o = sampleJson();
    o->set("exit_code", code);
    EXPECT_FALSE(receiptFromJson(o).ok()) << code;
  }
  for (const char* name : {"receipt_id", "task_id", "job_id", "worker_id", "provider"}) {
    JsonObject o = sampleJson();
    o->set(name, 5);
    EXPECT_FALSE(receiptFromJson(o).ok()) << name;
  }
}

TEST_F(ReceiptTest, ProviderMustBeAKeyId) {
  JsonObject o = sampleJson();
  o->set("provider", "not-a-key");
  EXPECT_FALSE(receiptFromJson(o).ok());
}

}  // namespace
}  // namespace dcloud
