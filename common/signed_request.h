#pragma once
// Signed requests: every API call carries
//   Authorization: DCLOUD-ED25519 id=<hex>, ts=<unix millis>, nonce=<hex>, sig=<hex>
// where sig is the ed25519 signature over the canonical string
//   "DCLOUD-ED25519\n" METHOD "\n" PATH "\n" QUERY "\n" ts "\n" nonce "\n" hex(sha256(body))
// A request is accepted only when the signature is valid, ts is within the allowed skew of the
// server's clock, and the (id, nonce) pair has not been seen before.

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/identity.h"
#include "common/random.h"
#include "common/result.h"

namespace dcloud {

constexpr const char* kAuthScheme = "DCLOUD-ED25519";
constexpr std::int64_t kDefaultMaxSkewMillis = 5 * 60 * 1000;

struct RequestToSign {
  std::string method;  // upper case
  std::string path;    // as sent, without the query
  std::string query;   // raw query string, without '?', as sent
  std::string body_sha256_hex;
};

struct AuthorizationFields {
  std::string id;
  std::int64_t ts_millis = 0;
  std::string nonce;
  std::string sig;
};

std::string canonicalRequestString(const RequestToSign& req, std::int64_t ts_millis,
                                   const std::string& nonce);
std::string makeAuthorization(const KeyPair& key, const RequestToSign& req, std::int64_t ts_millis,
                              const std::string& nonce);
// Convenience for clients: fresh timestamp and nonce.
std::string signRequest(const KeyPair& key, const RequestToSign& req, const Clock& clock,
                        Random& random);

// Unauthenticated if the header is absent or malformed.
Result<AuthorizationFields> parseAuthorization(const std::string& header);

// Remembers nonces so replays are refused. Implementations: RedisNonceStore (redis.h),
// MemoryNonceStore (tests).
class NonceStore {
 public:
  virtual ~NonceStore() = default;
  // True if this (id, nonce) was unseen and is now remembered for ttl; false if seen before.
  virtual Result<bool> rememberOnce(const std::string& id, const std::string& nonce,
                                    std::int64_t ttl_millis) = 0;
};

class MemoryNonceStore final : public NonceStore {
 public:
  Result<bool> rememberOnce(const std::string& id, const std::string& nonce,
                            std::int64_t ttl_millis) override;

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
};

class RequestVerifier {
 public:
  RequestVerifier(const Clock& clock, NonceStore& nonces,
                  std::int64_t max_skew_millis = kDefaultMaxSkewMillis)
      : clock_(clock), nonces_(nonces), max_skew_millis_(max_skew_millis) {}

  // Returns the authenticated principal id. Errors: Unauthenticated (missing, malformed or forged:
  // "invalid-signature"), Conflict with reason "refresh-nonce" (expired timestamp or replay).
  Result<std::string> verify(const std::string& authorization_header,
                             const RequestToSign& req) const;

 private:
  const Clock& clock_;
  NonceStore& nonces_;
  std::int64_t max_skew_millis_;
};

}  // namespace dcloud
