// The gateway driven by Debian's python3-boto3 (boto3_client.py): checksums, trailers, presigned
// URLs and conditional reads as a real SDK sends them.
#include "common/s3_client.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

class Boto3Test : public GatewayFixture {};

TEST_F(Boto3Test, ChecksumsTrailersPresignedAndConditions) {
  S3Client client(endpoint(), alice_creds_, clock_);
  ASSERT_TRUE(client.createBucket("boto").ok());
  CommandResult r =
      runCommand({"/usr/bin/python3", std::string(DCLOUD_GATEWAY_TEST_DIR) + "/boto3_client.py",
                  endpoint(), "boto"},
                 {{"AWS_ACCESS_KEY_ID", alice_creds_.access_key},
                  {"AWS_SECRET_ACCESS_KEY", alice_creds_.secret_key},
                  {"AWS_CONFIG_FILE", "/dev/null"},
                  {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                  {"AWS_EC2_METADATA_DISABLED", "true"}});
  EXPECT_EQ(r.rc, 0) << r.out << "\n" << r.err;
  EXPECT_NE(r.out.find("ALL OK"), std::string::npos) << r.out << "\n" << r.err;
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(dataFiles(), 7u);
}

}  // namespace
}  // namespace dcloud::gateway::testing
