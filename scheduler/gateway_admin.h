#pragma once
// The scheduler's view of the storage gateway's admin API: make sure an owner's bucket exists, and
// mint short-lived S3 credentials limited to one job's input and output prefixes.

#include <cstdint>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/result.h"

namespace dcloud::scheduler {

struct S3Grant {
  std::string access;  // "read" or "write"
  std::string prefix;
};

struct ScopedCredentials {
  std::string access_key;
  std::string secret_key;
  std::int64_t expires_at_ms = 0;
};

class GatewayAdmin {
 public:
  virtual ~GatewayAdmin() = default;
  // PermissionDenied when the bucket belongs to someone else.
  virtual Status ensureBucket(const std::string& owner, const std::string& bucket) = 0;
  virtual Result<ScopedCredentials> credentials(const std::string& principal,
                                                const std::string& bucket,
                                                const std::vector<S3Grant>& grants,
                                                std::int64_t ttl_seconds) = 0;
};

class HttpGatewayAdmin final : public GatewayAdmin {
 public:
  explicit HttpGatewayAdmin(ApiClient client) : client_(std::move(client)) {}
  Status ensureBucket(const std::string& owner, const std::string& bucket) override;
  Result<ScopedCredentials> credentials(const std::string& principal, const std::string& bucket,
                                        const std::vector<S3Grant>& grants,
                                        std::int64_t ttl_seconds) override;

 private:
  ApiClient client_;
};

}  // namespace dcloud::scheduler
