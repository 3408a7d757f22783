#include "scheduler/gateway_admin.h"

namespace dcloud::scheduler {

Status HttpGatewayAdmin::ensureBucket(const std::string& owner, const std::string& bucket) {
  JsonObject body = new Poco::JSON::Object;
  body->set("owner", owner);
  body->set("bucket", bucket);
  auto r = client_.call("POST", "/_dcloud/v1/buckets", body, 10000);
  if (!r.ok()) {
    Error e = r.error();
    e.message = "storage gateway: " + e.message;
    return e;
  }
  return okStatus();
}

Result<ScopedCredentials> HttpGatewayAdmin::credentials(const std::string& principal,
                                                        const std::string& bucket,
                                                        const std::vector<S3Grant>& grants,
                                                        std::int64_t ttl_seconds) {
  JsonObject body = new Poco::JSON::Object;
  body->set("principal", principal);
  body->set("bucket", bucket);
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& g : grants) {
    JsonObject o = new Poco::JSON::Object;
    o->set("access", g.access);
    o->set("prefix", g.prefix);
    list->add(o);
  }
  body->set("grants", list);
  body->set("ttl_seconds", ttl_seconds);
  auto r = client_.call("POST", "/_dcloud/v1/credentials", body, 10000);
  if (!r.ok()) {
    Error e = r.error();
    e.message = "storage gateway: " + e.message;
    return e;
  }
  ScopedCredentials out;
  auto ak = getString(*r, "access_key");
  auto sk = getString(*r, "secret_key");
  auto exp = getOptionalInt(*r, "expires_at_ms");
  if (!ak.ok() || !sk.ok()) return internalError("storage gateway sent no credentials");
  out.access_key = *ak;
  out.secret_key = *sk;
  out.expires_at_ms = exp.ok() ? exp->value_or(0) : 0;
  return out;
}

}  // namespace dcloud::scheduler
