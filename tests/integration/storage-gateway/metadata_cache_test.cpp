// The metadata cache (storage-gateway/metadata_cache.h in PgMetadataStore): changes made through
// the gateway's own store are seen by its next request at once; changes made elsewhere (another
// process, here a second store on the same database) within the cache's bound. Also the merged
// reads and writes of the fast paths: a version's attributes read with the object, and an
// unversioned overwrite replacing the "null" version's attributes.
#include "storage-gateway/metadata_cache.h"
#include "tests/integration/storage-gateway/gateway_fixture.h"

namespace dcloud::gateway::testing {
namespace {

class MetadataCacheTest : public GatewayFixture {};

TEST_F(MetadataCacheTest, RevokedKeyStopsWorkingAtOnceOnThisGateway) {
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/revoke-now", "").status, 200);
  // Cached by these requests.
  ASSERT_EQ(signedRequest(alice_creds_, "GET", "/revoke-now", "").status, 200);
  ASSERT_EQ(signedRequest(alice_creds_, "GET", "/revoke-now", "").status, 200);
  ASSERT_TRUE(metadata_->revokeAccessKey(alice_creds_.access_key).ok());
  HttpReply r = signedRequest(alice_creds_, "GET", "/revoke-now", "");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(MetadataCacheTest, ChangesFromElsewhereAreSeenWithinTheBound) {
  ManualClock clock(1'000'000);
  PgMetadataStore cached(pool_, clock, 1000);
  PgMetadataStore other(pool_, clock, 1000);  // stands for another process
  ASSERT_TRUE(cached.getAccessKey(bob_creds_.access_key).ok());
  ASSERT_TRUE(other.revokeAccessKey(bob_creds_.access_key).ok());
  clock.advanceMillis(999);
  Result<AccessKeyRow> stale = cached.getAccessKey(bob_creds_.access_key);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->revoked);  // within the bound
  clock.advanceMillis(1);
  Result<AccessKeyRow> fresh = cached.getAccessKey(bob_creds_.access_key);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->revoked);

  BucketRecord b{"elsewhere", "p1", 1, Versioning::kUnversioned};
  ASSERT_TRUE(cached.createBucket(b).ok());
  ASSERT_EQ(cached.getBucket("elsewhere")->versioning, Versioning::kUnversioned);
  ASSERT_TRUE(cached.getBucketDocuments("elsewhere")->empty());
  ASSERT_TRUE(other.setBucketVersioning("elsewhere", Versioning::kEnabled).ok());
  ASSERT_TRUE(other.putBucketDocument("elsewhere", "acl", "public-read").ok());
  clock.advanceMillis(1000);
  EXPECT_EQ(cached.getBucket("elsewhere")->versioning, Versioning::kEnabled);
  EXPECT_EQ(cached.getBucketDocuments("elsewhere")->count("acl"), 1u);
  // Its own changes are seen at once.
  ASSERT_TRUE(cached.putBucketDocument("elsewhere", "acl", std::nullopt).ok());
  EXPECT_TRUE(cached.getBucketDocuments("elsewhere")->empty());
  ASSERT_TRUE(cached.setBucketVersioning("elsewhere", Versioning::kSuspended).ok());
  EXPECT_EQ(cached.getBucket("elsewhere")->versioning, Versioning::kSuspended);
  ASSERT_TRUE(cached.deleteBucket("elsewhere").ok());
  EXPECT_FALSE(cached.getBucket("elsewhere").ok());
}

TEST_F(MetadataCacheTest, BucketConfigChangesAreSeenByTheNextRequest) {
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/config-now", "").status, 200);
  HttpReply first = signedRequest(alice_creds_, "PUT", "/config-now/k", "one");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.count("x-amz-version-id"), 0u);
  const std::string enable =
      "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/config-now?versioning", enable).status, 200);
  HttpReply second = signedRequest(alice_creds_, "PUT", "/config-now/k", "two");
  ASSERT_EQ(second.status, 200);
  ASSERT_EQ(second.headers.count("x-amz-version-id"), 1u);
  EXPECT_NE(second.headers["x-amz-version-id"], "null");

  // A bucket ACL document: bob may list the bucket from the next request on.
  EXPECT_EQ(signedRequest(bob_creds_, "GET", "/config-now", "").status, 403);
  ASSERT_EQ(
      signedRequest(alice_creds_, "PUT", "/config-now?acl", "", {{"x-amz-acl", "public-read"}})
          .status,
      200);
  EXPECT_EQ(signedRequest(bob_creds_, "GET", "/config-now", "").status, 200);
}

TEST_F(MetadataCacheTest, RecreatedBucketBelongsToItsNewOwnerAtOnce) {
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/moving", "").status, 200);
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/moving/k", "x").status, 200);
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/moving/k", "").status, 204);
  ASSERT_EQ(signedRequest(alice_creds_, "DELETE", "/moving", "").status, 204);
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/moving/k", "").status, 404);
  ASSERT_EQ(signedRequest(bob_creds_, "PUT", "/moving", "").status, 200);
  EXPECT_EQ(signedRequest(alice_creds_, "PUT", "/moving/k", "x").status, 403);
  EXPECT_EQ(signedRequest(bob_creds_, "PUT", "/moving/k", "y").status, 200);
}

TEST_F(MetadataCacheTest, UnversionedOverwriteReplacesTheAttributes) {
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/tagged", "").status, 200);
  ASSERT_EQ(
      signedRequest(alice_creds_, "PUT", "/tagged/k", "one", {{"x-amz-tagging", "a=1&b=2"}}).status,
      200);
  HttpReply first = signedRequest(alice_creds_, "GET", "/tagged/k", "");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "one");
  EXPECT_EQ(first.headers["x-amz-tagging-count"], "2");
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/tagged/k", "two").status, 200);
  HttpReply second = signedRequest(alice_creds_, "HEAD", "/tagged/k", "");
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.headers.count("x-amz-tagging-count"), 0u);
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/tagged/k", "3", {{"x-amz-tagging", "c=3"}}).status,
            200);
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/tagged/k", "").headers["x-amz-tagging-count"],
            "1");
}

TEST_F(MetadataCacheTest, ARemovedBlobIsNotReadFromTheRecentBlobs) {
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/recent", "").status, 200);
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/recent/k", "first").status, 200);
  Result<ObjectRecord> first = metadata_->getObject("recent", "k");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(objects_->open(first->data_id).ok());  // remembered by its writer
  // The overwrite removes the old data: it must not be opened from memory any more.
  ASSERT_EQ(signedRequest(alice_creds_, "PUT", "/recent/k", "second").status, 200);
  Result<std::unique_ptr<ObjectReader>> old = objects_->open(first->data_id);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(signedRequest(alice_creds_, "GET", "/recent/k", "").body, "second");
  Result<ObjectRecord> second = metadata_->getObject("recent", "k");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(objects_->remove(second->data_id).ok());
  EXPECT_FALSE(objects_->open(second->data_id).ok());
}

}  // namespace
}  // namespace dcloud::gateway::testing
