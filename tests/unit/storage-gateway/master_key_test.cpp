#include "storage-gateway/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/random.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway {
namespace {

TEST(MasterKeyTest, CreatesAPrivateKeyFileAndReadsItBack) {
  const std::string path = dcloud::testing::makeTempDir() + "/master.key";
  SeededRandom random(1);
  Result<MasterKey> created = MasterKey::loadOrCreate(path, random);
  ASSERT_TRUE(created.ok()) << created.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string sealed = created->seal("secret-value", random);
  Result<MasterKey> loaded = MasterKey::loadOrCreate(path, random);
  ASSERT_TRUE(loaded.ok());
  Result<std::string> opened = loaded->open(sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "secret-value");
  EXPECT_EQ(sealed.find("secret-value"), std::string::npos);
}

TEST(MasterKeyTest, AnotherKeyOrTamperingDoesNotOpen) {
  SeededRandom random(2);
  Result<MasterKey> a = MasterKey::fromBytes(std::string(32, 'a'));
  Result<MasterKey> b = MasterKey::fromBytes(std::string(32, 'b'));
  ASSERT_TRUE(a.ok() && b.ok());
  std::string sealed = a->seal("s3cr3t", random);
  EXPECT_FALSE(b->open(sealed).ok());
  sealed[sealed.size() / 2] = sealed[sealed.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(a->open(sealed).ok());
  EXPECT_FALSE(a->open("short").ok());
}

TEST(MasterKeyTest, RefusesGroupReadableOrMalformedFiles) {
  const std::string dir = dcloud::testing::makeTempDir();
  SeededRandom random(3);
  std::ofstream(dir + "/open.key") << std::string(64, 'a') << "\n";
  ::chmod((dir + "/open.key").c_str(), 0644);
  EXPECT_EQ(MasterKey::loadOrCreate(dir + "/open.key", random).error().code,
            ErrorCode::kPermissionDenied);
  std::ofstream(dir + "/bad.key") << "not hex";
  ::chmod((dir + "/bad.key").c_str(), 0600);
  EXPECT_EQ(MasterKey::loadOrCreate(dir + "/bad.key", random).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dcloud::gateway
