// The dcloud-ledger binary: keygen, mint, verify, and verify catching tampering.
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "tests/integration/ledger-adapter/outbox_fixture.h"

namespace dcloud::ledger {
namespace {

struct CliRun {
  int rc = -1;
  std::string out;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliRun run(const std::string& args) {
  const std::string cmd = quote(testing::binaryDir() + "/bin/dcloud-ledger") + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public OutboxFixture {
 protected:
  void SetUp() override {
    OutboxFixture::SetUp();
    key_file_ = testing::makeTempDir() + "/ledger.key";
    CliRun k = run("keygen --out " + quote(key_file_));
    ASSERT_EQ(k.rc, 0) << k.out;
    key_id_ = k.out.substr(0, 64);
    ASSERT_TRUE(isValidPrincipalId(key_id_)) << k.out;
  }
  CliRun mint(const std::string& to, const std::string& amount) {
    return run("mint --db " + quote(conninfo_) + " --key " + quote(key_file_) + " --to " +
               quote(to) + " --amount " + quote(amount));
  }
  CliRun verify() { return run("verify --db " + quote(conninfo_)); }

  std::string key_file_;
  std::string key_id_;
};

TEST_F(CliTest, MintPrintsHeightAndVerifyPasses) {
  const std::string alice = KeyPair::generate().id();
  CliRun m = mint(alice, "12.5");
  ASSERT_EQ(m.rc, 0) << m.out;
  EXPECT_EQ(m.out, "1\n");
  EXPECT_EQ(mint(alice, "0.000001").out, "2\n");
  EXPECT_EQ(account(alice).balance, 12'500'001);
  CliRun v = verify();
  EXPECT_EQ(v.rc, 0) << v.out;
  EXPECT_EQ(v.out.rfind("ok height=2", 0), 0u) << v.out;
  CliRun pinned = run("verify --db " + quote(conninfo_) + " --signer " + key_id_);
  EXPECT_EQ(pinned.rc, 0) << pinned.out;
  CliRun other = run("verify --db " + quote(conninfo_) + " --signer " + KeyPair::generate().id());
  EXPECT_EQ(other.rc, 1) << other.out;
}

TEST_F(CliTest, BadMintInputAppendsNothing) {
  const std::string alice = KeyPair::generate().id();
  ASSERT_EQ(mint(alice, "1").rc, 0);
  for (const char* amount : {"-5", "abc", "1.0000001", "", "0"}) {
    CliRun m = mint(alice, amount);
    EXPECT_NE(m.rc, 0) << amount;
    EXPECT_NE(m.out.find("amount"), std::string::npos) << m.out;
  }
  CliRun bad_id = mint("not an id!", "1");
  EXPECT_NE(bad_id.rc, 0);
  EXPECT_NE(bad_id.out.find("account id"), std::string::npos) << bad_id.out;
  EXPECT_EQ(scalar("SELECT max(height) FROM ledger.blocks"), "1");
  EXPECT_EQ(account(alice).balance, 1'000'000);
  EXPECT_NE(run("mint --db " + quote(conninfo_) + " --to " + alice + " --amount 1").rc, 0);
}

TEST_F(CliTest, VerifyFailsAfterTamperingWithPayload) {
  const std::string alice = KeyPair::generate().id();
  ASSERT_EQ(mint(alice, "5").rc, 0);
  ASSERT_EQ(mint(alice, "7").rc, 0);
  ASSERT_EQ(verify().rc, 0);
  exec(
      "UPDATE ledger.blocks SET payload = replace(payload, '5000000', '9000000')"
      " WHERE height = 1");
  CliRun v = verify();
  EXPECT_EQ(v.rc, 1) << v.out;
  EXPECT_NE(v.out.find("block 1"), std::string::npos) << v.out;
}

TEST_F(CliTest, VerifyFailsAfterTamperingWithBalanceOrLinks) {
  const std::string alice = KeyPair::generate().id();
  ASSERT_EQ(mint(alice, "5").rc, 0);
  ASSERT_EQ(mint(alice, "7").rc, 0);
  exec("UPDATE ledger.accounts SET balance = balance + 1 WHERE id = '" + alice + "'");
  CliRun v = verify();
  EXPECT_EQ(v.rc, 1) << v.out;
  EXPECT_NE(v.out.find(alice), std::string::npos) << v.out;
  exec("UPDATE ledger.accounts SET balance = balance - 1 WHERE id = '" + alice + "'");
  ASSERT_EQ(verify().rc, 0);

  exec("UPDATE ledger.blocks SET prev_hash = repeat('0', 64) WHERE height = 2");
  CliRun link = verify();
  EXPECT_EQ(link.rc, 1) << link.out;
  EXPECT_NE(link.out.find("block 2"), std::string::npos) << link.out;
}

TEST_F(CliTest, VerifyFailsOnAGap) {
  const std::string alice = KeyPair::generate().id();
  ASSERT_EQ(mint(alice, "5").rc, 0);
  ASSERT_EQ(mint(alice, "7").rc, 0);
  ASSERT_EQ(mint(alice, "9").rc, 0);
  exec("DELETE FROM ledger.blocks WHERE height = 2");
  CliRun v = verify();
  EXPECT_EQ(v.rc, 1) << v.out;
  EXPECT_NE(v.out.find("block 2"), std::string::npos) << v.out;
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(run("").rc, 2);
  EXPECT_EQ(run("frobnicate").rc, 2);
  EXPECT_EQ(run("verify").rc, 2);
  EXPECT_EQ(run("verify --db " + quote(conninfo_) + " --bogus 1").rc, 2);
}

}  // namespace
}  // namespace dcloud::ledger
