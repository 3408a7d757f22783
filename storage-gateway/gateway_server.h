#pragma once
// The gateway's HTTP(S) server: S3 API, path and virtual-host style (streaming bodies both ways),
// the admin API under /_dcloud/v1/, GET /healthz and GET /metrics (served only for requests
// without Authorization, so buckets named "healthz" or "metrics" stay reachable over S3).

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/result.h"
#include "common/signed_request.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/metadata_store.h"
#include "storage-gateway/object_store.h"

namespace dcloud {
class HttpListener;
}
namespace Poco {
class ThreadPool;
}  // namespace Poco

namespace dcloud::gateway {

constexpr std::int64_t kMaxSinglePutBytes = 5LL * 1024 * 1024 * 1024;

struct GatewayConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free port, read it back with GatewayServer::port()
  std::string region = "us-east-1";
  std::set<std::string> admins;  // principals allowed on /_dcloud/v1/
  std::int64_t max_object_bytes = kMaxSinglePutBytes;
  int max_threads = 64;
  int max_queued = 256;
  int io_timeout_seconds = 60;  // a client silent for this long loses its request
  // Virtual-host-style addressing: a Host "<bucket>.<domain>[:port]" addresses <bucket> (lower
  // case, see splitDomains). Path style keeps working on every other host.
  std::vector<std::string> domains;
  // HTTPS when both PEM files are set: on `port` instead of HTTP, or, with tls_and_plain, on
  // tls_port (0: pick a free one) next to HTTP on `port`.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_and_plain = false;
  std::uint16_t tls_port = 0;
};

// Everything the server uses; owned by the caller and outliving the server.
struct GatewayServices {
  MetadataStore& metadata;
  ObjectStore& objects;
  AccessKeys& keys;
  const RequestVerifier& verifier;  // DCLOUD-ED25519 (S3 and admin requests)
  MetricsRegistry& metrics;
  const Clock& clock;
  Random& random;
  std::function<Status()> health;  // ok when the database is reachable
};

class GatewayServer {
 public:
  GatewayServer(GatewayConfig config, GatewayServices services);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds and starts serving. Unavailable if an address cannot be bound or the TLS certificate
  // or key cannot be loaded.
  Status start();
  // Stops accepting, lets running requests finish for a few seconds, then closes the rest.
  void stop();
  // The port of `port` (HTTP, or HTTPS when TLS replaces it).
  std::uint16_t port() const { return port_; }
  // The HTTPS port; 0 without TLS.
  std::uint16_t tlsPort() const { return tls_port_; }

  struct State;  // internal: what the request handlers share

 private:
  GatewayConfig config_;
  std::unique_ptr<State> state_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<HttpListener> server_;
  std::unique_ptr<HttpListener> tls_server_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  bool ssl_initialized_ = false;
};

}  // namespace dcloud::gateway
