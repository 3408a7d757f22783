#pragma once
// HTTP client helpers on Poco::Net::HTTPClientSession. ApiClient speaks the JSON API: it signs
// each request with the caller's key, turns JSON error bodies back into Error values and keeps
// connections alive between calls (a small pool shared by its copies, safe across threads).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/identity.h"
#include "common/json.h"
#include "common/random.h"
#include "common/result.h"

namespace dcloud {

struct Url {
  std::string scheme;  // http or https
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // may include a query
};
Result<Url> parseUrl(const std::string& text);

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Unavailable when the peer cannot be reached, DeadlineExceeded on timeout.
Result<HttpResult> httpRequest(const std::string& method, const std::string& url,
                               const HeaderList& headers, const std::string& body,
                               int timeout_millis = 30000);

class ApiClient {
 public:
  // key may be null for unsigned calls (e.g. /healthz).
  ApiClient(std::string base_url, const KeyPair* key, const Clock& clock, Random& random);

  // path may carry a query ("/v1/jobs?owner=me"). body may be null (no body). A non-2xx answer
  // becomes the Error described by its JSON body.
  Result<JsonObject> call(const std::string& method, const std::string& path,
                          const JsonObject& body = nullptr, int timeout_millis = 30000) const;
  Result<HttpResult> raw(const std::string& method, const std::string& path,
                         const std::string& body, int timeout_millis = 30000) const;
  const std::string& baseUrl() const { return base_url_; }

 private:
  std::string base_url_;
  const KeyPair* key_;
  const Clock& clock_;
  Random& random_;
  // Idle keep-alive connections to base_url_ (null when base_url_ is not an http:// URL).
  struct ConnectionPool;
  std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace dcloud
