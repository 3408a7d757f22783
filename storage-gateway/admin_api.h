#pragma once
// The admin API the scheduler uses, JSON under /_dcloud/v1/, signed with DCLOUD-ED25519 by a
// principal named with --admin:
//   POST /_dcloud/v1/buckets      {"owner": ID, "bucket": NAME}
//        -> 200 {"bucket": NAME, "owner": ID, "created": true|false}
//           400 bad name, 403 the bucket belongs to someone else
//   POST /_dcloud/v1/credentials  {"principal": ID, "bucket": NAME,
//                                  "grants": [{"access": "read"|"write", "prefix": P}, ...],
//                                  "ttl_seconds": N}
//        -> 200 {"access_key": ..., "secret_key": ..., "expires_at_ms": ...}
//           403 the bucket does not belong to principal, 404 no such bucket
// Errors are the JSON bodies of common/http_errors.h.

#include <map>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/signed_request.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/metadata_store.h"

namespace dcloud::gateway {

constexpr std::size_t kMaxAdminBodyBytes = 64 * 1024;
constexpr std::int64_t kMaxCredentialTtlSeconds = 7 * 24 * 3600;

struct AdminRequest {
  std::string method;
  std::string path;       // as sent
  std::string raw_query;  // as sent
  std::string authorization;
  std::string body;
};

struct AdminResponse {
  int status = 200;
  std::string body;  // JSON
  std::string principal = "-";
  std::string operation = "Admin";
};

class AdminApi {
 public:
  AdminApi(MetadataStore& metadata, AccessKeys& keys, const RequestVerifier& verifier,
           std::set<std::string> admins, const Clock& clock)
      : metadata_(metadata),
        keys_(keys),
        verifier_(verifier),
        admins_(std::move(admins)),
        clock_(clock) {}

  AdminResponse handle(const AdminRequest& request) const;

 private:
  MetadataStore& metadata_;
  AccessKeys& keys_;
  const RequestVerifier& verifier_;
  std::set<std::string> admins_;
  const Clock& clock_;
};

}  // namespace dcloud::gateway
