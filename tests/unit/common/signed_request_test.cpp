#include "common/signed_request.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto.h"

namespace dcloud {
namespace {

constexpr const char* kNonce = "00112233445566778899aabbccddeeff";
constexpr const char* kEmptySha256Hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

RequestToSign sampleRequest() {
  return {"POST", "/v1/jobs", "owner=me&limit=5", sha256Hex("{\"name\":\"render\"}")};
}

void expectInvalidSignature(const Result<std::string>& r) {
  ASSERT_FALSE(r.ok()) << "accepted as " << *r;
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().toString();
  EXPECT_EQ(r.error().reason, "invalid-signature") << r.error().toString();
}

void expectRefreshNonce(const Result<std::string>& r) {
  ASSERT_FALSE(r.ok()) << "accepted as " << *r;
  EXPECT_EQ(r.error().code, ErrorCode::kConflict) << r.error().toString();
  EXPECT_EQ(r.error().reason, "refresh-nonce") << r.error().toString();
}

class SignedRequestTest : public ::testing::Test {
 protected:
  std::string sign(const RequestToSign& req, std::int64_t ts, const std::string& nonce = kNonce) {
    return makeAuthorization(key_, req, ts, nonce);
  }

  ManualClock clock_;
  MemoryNonceStore nonces_;
  RequestVerifier verifier_{clock_, nonces_};
  KeyPair key_ = KeyPair::generate();
};

TEST_F(SignedRequestTest, CanonicalStringFormat) {
  RequestToSign req{"GET", "/v1/jobs/7", "a=1&b=2", kEmptySha256Hex};
  EXPECT_EQ(canonicalRequestString(req, 1'800'000'000'123, "abc"),
            std::string("DCLOUD-ED25519\nGET\n/v1/jobs/7\na=1&b=2\n1800000000123\nabc\n") +
                kEmptySha256Hex);
}

TEST_F(SignedRequestTest, AuthorizationHeaderFormat) {
  const RequestToSign req = sampleRequest();
  const std::string header = sign(req, 1'800'000'000'000);
  const std::string prefix =
      "DCLOUD-ED25519 id=" + key_.id() + ", ts=1800000000000, nonce=" + kNonce + ", sig=";
  ASSERT_EQ(header.rfind(prefix, 0), 0u) << header;
  const std::string sig = header.substr(prefix.size());
  EXPECT_TRUE(
      verifySignature(key_.id(), canonicalRequestString(req, 1'800'000'000'000, kNonce), sig));
  auto fields = parseAuthorization(header);
  ASSERT_TRUE(fields.ok()) << fields.error().toString();
  EXPECT_EQ(fields->id, key_.id());
  EXPECT_EQ(fields->ts_millis, 1'800'000'000'000);
  EXPECT_EQ(fields->nonce, kNonce);
  EXPECT_EQ(fields->sig, sig);
}

TEST_F(SignedRequestTest, AcceptsGoodRequest) {
  const RequestToSign req = sampleRequest();
  auto r = verifier_.verify(sign(req, clock_.nowMillis()), req);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*r, key_.id());
}

TEST_F(SignedRequestTest, SignRequestUsesClockAndFreshNonces) {
  SeededRandom random(7);
  const RequestToSign req = sampleRequest();
  const std::string a = signRequest(key_, req, clock_, random);
  const std::string b = signRequest(key_, req, clock_, random);
  EXPECT_NE(parseAuthorization(a)->nonce, parseAuthorization(b)->nonce);
  EXPECT_EQ(parseAuthorization(a)->ts_millis, clock_.nowMillis());
  EXPECT_TRUE(verifier_.verify(a, req).ok());
  EXPECT_TRUE(verifier_.verify(b, req).ok());
}

TEST_F(SignedRequestTest, AcceptsTimestampsWithinSkew) {
  const RequestToSign req = sampleRequest();
  const std::int64_t now = clock_.nowMillis();
  EXPECT_TRUE(
      verifier_.verify(sign(req, now - kDefaultMaxSkewMillis, std::string(32, 'a')), req).ok());
  EXPECT_TRUE(
      verifier_.verify(sign(req, now + kDefaultMaxSkewMillis, std::string(32, 'b')), req).ok());
}

TEST_F(SignedRequestTest, RefusesUnsignedRequest) {
  expectInvalidSignature(verifier_.verify("", sampleRequest()));
}

TEST_F(SignedRequestTest, RefusesMalformedHeaders) {
  const RequestToSign req = sampleRequest();
  const std::string id = key_.id();
  const std::string good = sign(req, clock_.nowMillis());
  const std::string sig = good.substr(good.find("sig=") + 4);
  const std::string ts = std::to_string(clock_.nowMillis());
  const std::string headers[] = {
      "Bearer abc",
      "DCLOUD-ED25519",
      "DCLOUD-ED25519 ",
      "dcloud-ed25519 id=" + id + ", ts=" + ts + ", nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=" + kNonce,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=" + kNonce + ", sig=" + sig + ", x=1",
      "DCLOUD-ED25519 id=" + id + ", id=" + id + ", ts=" + ts + ", nonce=" + kNonce,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=" + kNonce + ", sig",
      "DCLOUD-ED25519 id=" + id + ", ts=abc, nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=-5, nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + "x, nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=99999999999999999999999, nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=xyz, ts=" + ts + ", nonce=" + kNonce + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=short, sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=" + std::string(65, 'a') + ", sig=" + sig,
      "DCLOUD-ED25519 id=" + id + ", ts=" + ts + ", nonce=" + kNonce + ", sig=nothex",
  };
  for (const std::string& h : headers) {
    SCOPED_TRACE(h);
    expectInvalidSignature(verifier_.verify(h, req));
  }
}

TEST_F(SignedRequestTest, RefusesSignatureByAnotherKey) {
  const RequestToSign req = sampleRequest();
  const std::int64_t ts = clock_.nowMillis();
  KeyPair mallory = KeyPair::generate();
  const std::string forged = std::string("DCLOUD-ED25519 id=") + key_.id() +
                             ", ts=" + std::to_string(ts) + ", nonce=" + kNonce +
                             ", sig=" + mallory.sign(canonicalRequestString(req, ts, kNonce));
  expectInvalidSignature(verifier_.verify(forged, req));
}

TEST_F(SignedRequestTest, RefusesAlteredRequest) {
  const RequestToSign req = sampleRequest();
  const std::string header = sign(req, clock_.nowMillis());
  RequestToSign altered = req;
  altered.body_sha256_hex = sha256Hex("{\"name\":\"evil\"}");
  expectInvalidSignature(verifier_.verify(header, altered));
  altered = req;
  altered.path = "/v1/jobs/other";
  expectInvalidSignature(verifier_.verify(header, altered));
  altered = req;
  altered.query = "owner=me&limit=500";
  expectInvalidSignature(verifier_.verify(header, altered));
  altered = req;
  altered.query = "";
  expectInvalidSignature(verifier_.verify(header, altered));
  altered = req;
  altered.method = "DELETE";
  expectInvalidSignature(verifier_.verify(header, altered));
  // The unaltered request still goes through: forged attempts did not burn the nonce.
  EXPECT_TRUE(verifier_.verify(header, req).ok());
}

TEST_F(SignedRequestTest, RefusesAlteredTimestampOrNonce) {
  const RequestToSign req = sampleRequest();
  const std::int64_t ts = clock_.nowMillis();
  const std::string header = sign(req, ts);
  std::string other_ts = header;
  other_ts.replace(other_ts.find(std::to_string(ts)), std::to_string(ts).size(),
                   std::to_string(ts + 1));
  expectInvalidSignature(verifier_.verify(other_ts, req));
  std::string other_nonce = header;
  other_nonce.replace(other_nonce.find(kNonce), 32, std::string(32, 'f'));
  expectInvalidSignature(verifier_.verify(other_nonce, req));
}

TEST_F(SignedRequestTest, RefusesExpiredOrFutureTimestamp) {
  const RequestToSign req = sampleRequest();
  const std::int64_t signed_at = clock_.nowMillis();
  const std::string header = sign(req, signed_at);
  clock_.advanceMillis(kDefaultMaxSkewMillis + 1);
  expectRefreshNonce(verifier_.verify(header, req));
  clock_.setMillis(signed_at - kDefaultMaxSkewMillis - 1);
  expectRefreshNonce(verifier_.verify(header, req));
  // Back inside the window the same request is accepted: a stale timestamp burns no nonce.
  clock_.setMillis(signed_at);
  EXPECT_TRUE(verifier_.verify(header, req).ok());
}

TEST_F(SignedRequestTest, RefusesReplayedNonce) {
  const RequestToSign req = sampleRequest();
  const std::string header = sign(req, clock_.nowMillis());
  ASSERT_TRUE(verifier_.verify(header, req).ok());
  expectRefreshNonce(verifier_.verify(header, req));
  // The same nonce signed again with another timestamp is still a replay.
  expectRefreshNonce(verifier_.verify(sign(req, clock_.nowMillis() + 1), req));
  // Another principal may use the same nonce.
  KeyPair other = KeyPair::generate();
  EXPECT_TRUE(
      verifier_.verify(makeAuthorization(other, req, clock_.nowMillis(), kNonce), req).ok());
}

TEST_F(SignedRequestTest, CustomSkewIsHonoured) {
  RequestVerifier strict(clock_, nonces_, 1000);
  const RequestToSign req = sampleRequest();
  expectRefreshNonce(strict.verify(sign(req, clock_.nowMillis() - 1001), req));
  EXPECT_TRUE(strict.verify(sign(req, clock_.nowMillis() - 1000, std::string(16, 'c')), req).ok());
}

class FailingNonceStore final : public NonceStore {
 public:
  Result<bool> rememberOnce(const std::string&, const std::string&, std::int64_t) override {
    return unavailable("redis is down");
  }
};

TEST_F(SignedRequestTest, NonceStoreFailureIsUnavailable) {
  FailingNonceStore store;
  RequestVerifier verifier(clock_, store);
  const RequestToSign req = sampleRequest();
  auto r = verifier.verify(sign(req, clock_.nowMillis()), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace dcloud
