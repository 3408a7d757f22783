#include "tests/integration/storage-gateway/gateway_fixture.h"

#include <Poco/MD5Engine.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "tests/support/test_env.h"

extern char** environ;

namespace dcloud::gateway::testing {

CommandResult runCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  const std::string dir = dcloud::testing::makeTempDir();
  const std::string out_path = dir + "/stdout";
  const std::string err_path = dir + "/stderr";
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    const std::size_t eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // pyenv's variables must not leak into Debian's python that runs /usr/bin/aws.
  merged.erase("PYTHONPATH");
  merged.erase("PYTHONHOME");
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  CommandResult result;
  if (posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data()) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    result.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  std::ostringstream out, err;
  out << std::ifstream(out_path).rdbuf();
  err << std::ifstream(err_path).rdbuf();
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::string rawExchange(std::uint16_t port, const std::string& bytes, bool shutdown_write) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    sent += static_cast<std::size_t>(
        socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent)));
  }
  if (shutdown_write) socket.shutdownSend();
  std::string reply;
  char buf[8192];
  try {
    for (;;) {
      const int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      reply.append(buf, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
    // A reset after the reply still leaves the reply readable.
  }
  return reply;
}

HttpReply parseReply(const std::string& raw) {
  HttpReply r;
  const std::size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream lines(raw.substr(0, end));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    r.headers[name] = line.substr(v);
  }
  r.body = raw.substr(end + 4);
  return r;
}

std::string md5Hex(const std::string& data) {
  Poco::MD5Engine md5;
  md5.update(data.data(), data.size());
  return Poco::DigestEngine::digestToHex(md5.digest());
}

std::string randomBytes(std::size_t n, std::uint64_t seed) {
  SeededRandom random(seed);
  std::string out(n, '\0');
  random.fill(reinterpret_cast<std::uint8_t*>(out.data()), n);
  return out;
}

std::size_t regularFilesUnder(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) ++n;
  }
  return n;
}

void GatewayFixture::SetUp() {
  conninfo_ = dcloud::testing::createMigratedTestDatabase();
  temp_dir_ = dcloud::testing::makeTempDir();
  data_dir_ = temp_dir_ + "/data";
  master_key_file_ = temp_dir_ + "/master.key";
  auto pool = PgPool::connect(conninfo_, 8);
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  pool_ = std::shared_ptr<PgPool>(std::move(*pool));
  auto redis = RedisPool::connect(dcloud::testing::testRedisConfig());
  ASSERT_TRUE(redis.ok()) << redis.error().message;
  redis_ = *redis;
  auto master = MasterKey::loadOrCreate(master_key_file_, random_);
  ASSERT_TRUE(master.ok());
  master_.emplace(std::move(*master));
  auto objects = ChunkObjectStore::openDir(data_dir_, pool_, *master_, clock_, random_);
  ASSERT_TRUE(objects.ok());
  objects_ = std::move(*objects);
  gc_ = std::make_unique<ChunkGc>(*objects_, gc_log_, ChunkGcOptions{-1000, 0});
  metadata_ = std::make_unique<PgMetadataStore>(pool_);
  keys_ = std::make_unique<AccessKeys>(*metadata_, *master_, clock_, random_);
  nonces_ = std::make_unique<RedisNonceStore>(redis_);
  verifier_ = std::make_unique<RequestVerifier>(clock_, *nonces_);
  admin_.emplace(KeyPair::generate());
  alice_.emplace(KeyPair::generate());
  bob_.emplace(KeyPair::generate());

  GatewayConfig config;
  config.admins = {admin_->id()};
  configureGateway(config);
  auto health = [this]() -> Status { return okStatus(); };
  server_ = std::make_unique<GatewayServer>(
      config, GatewayServices{*metadata_, *objects_, *keys_, *verifier_, metrics_, clock_, random_,
                              health});
  ASSERT_TRUE(server_->start().ok());

  auto alice_key = keys_->create(
      {alice_->id(), "alice", std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  ASSERT_TRUE(alice_key.ok());
  alice_creds_ = {alice_key->access_key, alice_key->secret_key};
  auto bob_key =
      keys_->create({bob_->id(), "bob", std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  ASSERT_TRUE(bob_key.ok());
  bob_creds_ = {bob_key->access_key, bob_key->secret_key};
}

std::size_t GatewayFixture::dataFiles() {
  Result<GcCounts> collected = gc_->runOnce();
  EXPECT_TRUE(collected.ok()) << collected.error().message;
  Result<std::int64_t> live = objects_->index().liveBlobCount();
  EXPECT_TRUE(live.ok());
  return live.ok() ? static_cast<std::size_t>(*live) : 0;
}

std::size_t GatewayFixture::storedChunks() {
  Result<GcCounts> collected = gc_->runOnce();
  EXPECT_TRUE(collected.ok()) << collected.error().message;
  return regularFilesUnder(objects_->chunksDir()) + inlineChunks();
}

std::size_t GatewayFixture::inlineChunks() {
  auto count = pool_->with<std::int64_t>([](pqxx::connection& c) -> Result<std::int64_t> {
    pqxx::read_transaction w(c);
    return w.exec("SELECT count(*) FROM gateway.chunks WHERE sealed IS NOT NULL")[0][0]
        .as<std::int64_t>();
  });
  EXPECT_TRUE(count.ok());
  return count.ok() ? static_cast<std::size_t>(*count) : 0;
}

void GatewayFixture::TearDown() {
  if (server_) server_->stop();
}

CommandResult GatewayFixture::aws(const SigV4Credentials& creds,
                                  const std::vector<std::string>& args) {
  const std::string dir = dcloud::testing::makeTempDir();
  std::ofstream(dir + "/config") << "[default]\nregion = us-east-1\ns3 =\n" << aws_s3_config_;
  std::ofstream(dir + "/credentials") << "";
  std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, {{"AWS_CONFIG_FILE", dir + "/config"},
                           {"AWS_SHARED_CREDENTIALS_FILE", dir + "/credentials"},
                           {"AWS_ACCESS_KEY_ID", creds.access_key},
                           {"AWS_SECRET_ACCESS_KEY", creds.secret_key},
                           {"AWS_DEFAULT_REGION", "us-east-1"},
                           {"AWS_EC2_METADATA_DISABLED", "true"},
                           {"AWS_PAGER", ""},
                           {"HOME", dir}});
}

HttpReply GatewayFixture::signedRequest(const SigV4Credentials& creds, const std::string& method,
                                        const std::string& path, const std::string& body,
                                        std::map<std::string, std::string> extra,
                                        std::string payload_hash, std::int64_t date_offset_ms,
                                        std::optional<std::size_t> send_only) {
  const std::string amz_date = amzDate(clock_.nowMillis() + date_offset_ms);
  if (payload_hash.empty()) payload_hash = sha256Hex(body);
  std::map<std::string, std::string> headers = std::move(extra);
  headers.emplace("host", "127.0.0.1:" + std::to_string(port()));
  headers["x-amz-date"] = amz_date;
  headers["x-amz-content-sha256"] = payload_hash;
  SigV4Request req;
  req.method = method;
  const std::size_t q = path.find('?');
  req.canonical_uri = path.substr(0, q);
  if (q != std::string::npos) {
    std::string raw = path.substr(q + 1);
    std::size_t pos = 0;
    while (pos <= raw.size()) {
      std::size_t amp = raw.find('&', pos);
      if (amp == std::string::npos) amp = raw.size();
      std::string part = raw.substr(pos, amp - pos);
      const std::size_t eq = part.find('=');
      auto name = uriDecode(part.substr(0, eq));
      auto value = uriDecode(eq == std::string::npos ? "" : part.substr(eq + 1));
      if (!part.empty()) req.query.emplace_back(*name, *value);
      pos = amp + 1;
    }
  }
  req.headers = headers;
  for (const auto& [k, v] : headers) req.signed_headers.push_back(k);
  req.payload_hash = payload_hash;
  std::string raw = method + " " + path + " HTTP/1.1\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  raw += "Authorization: " + sigv4Authorization(creds, req, amz_date) + "\r\n";
  if (!headers.count("content-length")) {
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "Connection: close\r\n\r\n";
  raw += body.substr(0, send_only.value_or(body.size()));
  return parseReply(rawExchange(port(), raw, send_only.has_value()));
}

}  // namespace dcloud::gateway::testing
