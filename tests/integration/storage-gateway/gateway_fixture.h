#pragma once
// A running gateway for integration tests: in-process GatewayServer on port 0 over a fresh
// database, a Redis key prefix and temp data directory; access keys for two principals; helpers
// to run /usr/bin/aws against it and to send raw or SigV4-signed HTTP requests.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/identity.h"
#include "common/metrics.h"
#include "common/pg.h"
#include "common/random.h"
#include "common/redis.h"
#include "common/sigv4.h"
#include "storage-gateway/access_keys.h"
#include "storage-gateway/chunk_gc.h"
#include "storage-gateway/chunk_object_store.h"
#include "storage-gateway/gateway_server.h"
#include "storage-gateway/master_key.h"
#include "storage-gateway/pg_metadata_store.h"

namespace dcloud::gateway::testing {

struct CommandResult {
  int rc = -1;
  std::string out;
  std::string err;
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Runs argv (no shell), with extra environment variables; captures both streams.
CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {});
// Sends bytes on a fresh connection, optionally half-closes, reads until the server closes.
std::string rawExchange(std::uint16_t port, const std::string& bytes, bool shutdown_write);
HttpReply parseReply(const std::string& raw);
std::string md5Hex(const std::string& data);
std::string randomBytes(std::size_t n, std::uint64_t seed);
std::size_t regularFilesUnder(const std::string& dir);

class GatewayFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Lets a test change the configuration (TLS, domains) before the server starts.
  virtual void configureGateway(GatewayConfig& config) { (void)config; }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::uint16_t port() const { return server_->port(); }

  // /usr/bin/aws --endpoint-url ... args, with these credentials and a private config.
  CommandResult aws(const SigV4Credentials& creds, const std::vector<std::string>& args);
  // A SigV4-signed request (x-amz-content-sha256 = payload_hash, or sha256(body) when empty),
  // sent as raw HTTP with Connection: close. extra headers are signed too (a "host" there
  // replaces 127.0.0.1:port).
  HttpReply signedRequest(const SigV4Credentials& creds, const std::string& method,
                          const std::string& path, const std::string& body,
                          std::map<std::string, std::string> extra = {},
                          std::string payload_hash = "", std::int64_t date_offset_ms = 0,
                          std::optional<std::size_t> send_only = std::nullopt);
  // Stored data items (one per object version or part, like a file each before chunking) after a
  // garbage-collection pass without grace: what a deleted or refused upload must not leave.
  std::size_t dataFiles();
  // Chunks stored after such a pass: files on disk plus chunks kept in their rows (inline).
  std::size_t storedChunks();
  // Of those, the ones kept in their rows.
  std::size_t inlineChunks();

  // aws CLI s3 settings: by default every test file is uploaded in one PUT; tests of multipart
  // uploads set awscli's 8 MB default threshold instead.
  std::string aws_s3_config_ = "  multipart_threshold = 1GB\n  multipart_chunksize = 1GB\n";
  SystemClock& clock_ = SystemClock::instance();
  SecureRandom& random_ = SecureRandom::instance();
  std::string conninfo_;
  std::string temp_dir_;
  std::string data_dir_;
  std::string master_key_file_;
  std::shared_ptr<PgPool> pool_;
  std::shared_ptr<RedisPool> redis_;
  std::optional<MasterKey> master_;
  std::unique_ptr<ChunkObjectStore> objects_;
  Logger gc_log_{"gc"};
  std::unique_ptr<ChunkGc>
      gc_;  // grace 0, run by dataFiles() and storedChunks(), not in background
  std::unique_ptr<PgMetadataStore> metadata_;
  std::unique_ptr<AccessKeys> keys_;
  std::unique_ptr<RedisNonceStore> nonces_;
  std::unique_ptr<RequestVerifier> verifier_;
  MetricsRegistry metrics_;
  std::unique_ptr<GatewayServer> server_;
  std::optional<KeyPair> admin_;
  std::optional<KeyPair> alice_;
  std::optional<KeyPair> bob_;
  SigV4Credentials alice_creds_;
  SigV4Credentials bob_creds_;
};

}  // namespace dcloud::gateway::testing
