// The gateway driven by Debian's rclone (S3 remote, provider Other, path style, configured by
// environment variables): sync of a tree with nested directories, empty files, unicode names and
// a 21 MiB file (multipart with a 5 MiB cutoff) up and down, rclone check both ways (hashes and
// --download), then changes and deletions synced again, every byte compared.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/storage-gateway/gateway_fixture.h"
#include "tests/support/test_env.h"

namespace dcloud::gateway::testing {
namespace {

namespace fs = std::filesystem;

std::string readAll(const std::string& path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::map<std::string, std::string> treeOf(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = readAll(e.path());
  }
  return out;
}

class RcloneTest : public GatewayFixture {
 protected:
  // rclone with remote "gw:" pointing at the gateway; requires success.
  std::string rclone(std::vector<std::string> args) {
    const std::string dir = dcloud::testing::makeTempDir();
    std::ofstream(dir + "/rclone.conf") << "";
    std::vector<std::string> argv = {"/usr/bin/rclone",
                                     "--config",
                                     dir + "/rclone.conf",
                                     "--s3-upload-cutoff",
                                     "5M",
                                     "--s3-chunk-size",
                                     "5M",
                                     "--low-level-retries",
                                     "1",
                                     "--retries",
                                     "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r =
        runCommand(argv, {{"RCLONE_CONFIG_GW_TYPE", "s3"},
                          {"RCLONE_CONFIG_GW_PROVIDER", "Other"},
                          {"RCLONE_CONFIG_GW_ENV_AUTH", "false"},
                          {"RCLONE_CONFIG_GW_ACCESS_KEY_ID", alice_creds_.access_key},
                          {"RCLONE_CONFIG_GW_SECRET_ACCESS_KEY", alice_creds_.secret_key},
                          {"RCLONE_CONFIG_GW_ENDPOINT", endpoint()},
                          {"RCLONE_CONFIG_GW_REGION", "us-east-1"},
                          {"RCLONE_CONFIG_GW_FORCE_PATH_STYLE", "true"},
                          // The AWS SDK in rclone 1.60 fails on a CA bundle
                          // from the environment; the endpoint is plain HTTP.
                          {"AWS_CA_BUNDLE", ""},
                          {"HOME", dir}});
    EXPECT_EQ(r.rc, 0) << "rclone " << args[0] << "\n" << r.out << "\n" << r.err;
    return r.out + r.err;
  }
};

TEST_F(RcloneTest, SyncCheckModifyAndSyncBack) {
  const std::string base = dcloud::testing::makeTempDir();
  const std::string up = base + "/up";
  writeFile(up + "/top.txt", "top level");
  writeFile(up + "/empty.txt", "");
  writeFile(up + "/a/b/c/deep.bin", randomBytes(300000, 31));
  writeFile(up + "/a/b/empty-too", "");
  writeFile(up + "/uni/\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac.txt", "unicode");
  writeFile(up + "/uni/sp ace+plus&amp%.txt", "specials");
  writeFile(up + "/big/twentyone.bin", randomBytes(21 << 20, 32));

  rclone({"mkdir", "gw:rcb"});
  rclone({"sync", up, "gw:rcb/tree"});
  rclone({"check", up, "gw:rcb/tree"});
  rclone({"check", "gw:rcb/tree", up});
  rclone({"check", "--download", up, "gw:rcb/tree"});
  const std::string down = base + "/down";
  rclone({"sync", "gw:rcb/tree", down});
  EXPECT_TRUE(treeOf(up) == treeOf(down)) << "first sync differs";
  EXPECT_EQ(treeOf(down).size(), 7u);

  // Change, delete, add, then sync both ways again.
  writeFile(up + "/top.txt", "top level, changed");
  writeFile(up + "/big/twentyone.bin", randomBytes(21 << 20, 33));
  fs::remove(up + "/a/b/c/deep.bin");
  fs::remove(up + "/empty.txt");
  writeFile(up + "/new/dir/new.bin", randomBytes(1 << 20, 34));
  rclone({"sync", up, "gw:rcb/tree"});
  rclone({"check", "--download", up, "gw:rcb/tree"});
  rclone({"check", "gw:rcb/tree", up});
  rclone({"sync", "gw:rcb/tree", down});
  EXPECT_TRUE(treeOf(up) == treeOf(down)) << "second sync differs";
  EXPECT_FALSE(fs::exists(down + "/a/b/c/deep.bin"));
  EXPECT_FALSE(fs::exists(down + "/empty.txt"));
  const std::string listing = rclone({"lsf", "-R", "gw:rcb/tree"});
  EXPECT_EQ(listing.find("deep.bin"), std::string::npos) << listing;
  // Nothing left over: one data file per object.
  EXPECT_EQ(dataFiles(), treeOf(up).size());
}

}  // namespace
}  // namespace dcloud::gateway::testing
