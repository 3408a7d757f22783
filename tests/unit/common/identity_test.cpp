#include "common/identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "tests/support/test_env.h"

namespace dcloud {
namespace {

void writeFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

std::string flipLastHexDigit(std::string hex) {
  hex.back() = hex.back() == '0' ? '1' : '0';
  return hex;
}

TEST(IdentityTest, GeneratedKeySignsAndVerifies) {
  KeyPair key = KeyPair::generate();
  EXPECT_TRUE(isValidPrincipalId(key.id()));
  const std::string sig = key.sign("hello");
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_TRUE(verifySignature(key.id(), "hello", sig));
  EXPECT_NE(KeyPair::generate().id(), key.id());
}

TEST(IdentityTest, TamperedMessageOrSignatureIsRefused) {
  KeyPair key = KeyPair::generate();
  const std::string sig = key.sign("pay 1.0 to bob");
  EXPECT_FALSE(verifySignature(key.id(), "pay 9.0 to bob", sig));
  EXPECT_FALSE(verifySignature(key.id(), "pay 1.0 to bob", flipLastHexDigit(sig)));
  EXPECT_FALSE(verifySignature(key.id(), "pay 1.0 to bob", sig.substr(0, 126)));
  EXPECT_FALSE(verifySignature(key.id(), "pay 1.0 to bob", sig + "00"));
  EXPECT_FALSE(verifySignature(key.id(), "pay 1.0 to bob", std::string(128, 'z')));
  EXPECT_FALSE(verifySignature(key.id(), "pay 1.0 to bob", ""));
  EXPECT_FALSE(verifySignature(KeyPair::generate().id(), "pay 1.0 to bob", sig));
}

TEST(IdentityTest, PrincipalIdFormat) {
  EXPECT_TRUE(isValidPrincipalId(std::string(64, 'a')));
  EXPECT_FALSE(isValidPrincipalId(std::string(63, 'a')));
  EXPECT_FALSE(isValidPrincipalId(std::string(65, 'a')));
  EXPECT_FALSE(isValidPrincipalId(std::string(64, 'A')));  // ids are lowercase
  EXPECT_FALSE(isValidPrincipalId(std::string(64, 'g')));
  EXPECT_FALSE(isValidPrincipalId(""));
  KeyPair key = KeyPair::generate();
  EXPECT_FALSE(verifySignature(std::string(64, 'g'), "m", key.sign("m")));
}

TEST(IdentityTest, FromSecretHexRecreatesTheSameKey) {
  KeyPair key = KeyPair::generate();
  auto copy = KeyPair::fromSecretHex(key.secretHex());
  ASSERT_TRUE(copy.ok()) << copy.error().toString();
  EXPECT_EQ(copy->id(), key.id());
  EXPECT_EQ(copy->secretHex(), key.secretHex());
  EXPECT_TRUE(verifySignature(key.id(), "m", copy->sign("m")));
  // ed25519 signatures are deterministic.
  EXPECT_EQ(copy->sign("m"), key.sign("m"));
}

TEST(IdentityTest, FromSecretHexRejectsBadSecrets) {
  KeyPair key = KeyPair::generate();
  const std::string secret = key.secretHex();
  EXPECT_FALSE(KeyPair::fromSecretHex("").ok());
  EXPECT_FALSE(KeyPair::fromSecretHex(secret.substr(0, 64)).ok());  // seed only
  EXPECT_FALSE(KeyPair::fromSecretHex(secret + "00").ok());
  EXPECT_FALSE(KeyPair::fromSecretHex(std::string(128, 'x')).ok());
  // The embedded public half does not belong to the seed.
  auto r = KeyPair::fromSecretHex(flipLastHexDigit(secret));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(IdentityTest, SaveCreatesPrivateFileAndLoadReadsIt) {
  const std::string path = testing::makeTempDir() + "/key.json";
  KeyPair key = KeyPair::generate();
  ASSERT_TRUE(key.save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = KeyPair::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().toString();
  EXPECT_EQ(loaded->id(), key.id());
  EXPECT_EQ(loaded->secretHex(), key.secretHex());
}

TEST(IdentityTest, SaveRefusesToOverwrite) {
  const std::string path = testing::makeTempDir() + "/key.json";
  KeyPair first = KeyPair::generate();
  ASSERT_TRUE(first.save(path).ok());
  Status s = KeyPair::generate().save(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  auto loaded = KeyPair::load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id(), first.id());
}

TEST(IdentityTest, LoadRefusesFilesReadableByOthers) {
  const std::string path = testing::makeTempDir() + "/key.json";
  KeyPair key = KeyPair::generate();
  ASSERT_TRUE(key.save(path).ok());
  for (mode_t mode : {0640, 0604, 0644, 0660, 0602}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = KeyPair::load(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(KeyPair::load(path).ok());
}

TEST(IdentityTest, LoadRefusesMalformedFiles) {
  const std::string dir = testing::makeTempDir();
  KeyPair key = KeyPair::generate();
  KeyPair other = KeyPair::generate();
  const std::string cases[] = {
      "",
      "not json",
      "[1, 2]",
      "{\"id\": \"" + key.id() + "\"}",
      "{\"secret\": 12}",
      "{\"secret\": \"" + key.secretHex().substr(0, 64) + "\"}",
      "{\"id\": \"" + other.id() + "\", \"secret\": \"" + key.secretHex() + "\"}",
      "{\"id\": 5, \"secret\": \"" + key.secretHex() + "\"}",
  };
  int n = 0;
  for (const std::string& text : cases) {
    const std::string path = dir + "/key" + std::to_string(n++) + ".json";
    writeFile(path, text, 0600);
    auto r = KeyPair::load(path);
    ASSERT_FALSE(r.ok()) << "accepted key file: " << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
  }
  // A file without "id" is fine: the id follows from the secret.
  const std::string path = dir + "/noid.json";
  writeFile(path, "{\"secret\": \"" + key.secretHex() + "\"}", 0600);
  auto r = KeyPair::load(path);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->id(), key.id());
}

TEST(IdentityTest, LoadOfMissingFileIsNotFound) {
  auto r = KeyPair::load(testing::makeTempDir() + "/absent.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace dcloud
