// What the scheduler refuses before anything is written: bad signatures, expired or replayed
// requests, malformed or absurd job specs, oversized bodies, and bids nobody can pay or accept.
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>

#include <algorithm>
#include <string>

#include "common/crypto.h"
#include "common/signed_request.h"
#include "tests/integration/scheduler/scheduler_fixture.h"

namespace dcloud::scheduler::testing {
namespace {

class ApiGuardTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    if (HasFatalFailure()) return;
    fund(owner_.id(), 1000 * kMicrosPerCredit);
  }
  // Sends a POST /v1/jobs with a hand-made Authorization header (or none).
  HttpResult rawSubmit(const std::string& body, const std::string& authorization) {
    HeaderList headers = {{"Content-Type", "application/json"}};
    if (!authorization.empty()) headers.push_back({"Authorization", authorization});
    auto r = httpRequest("POST", url_ + "/v1/jobs", headers, body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : HttpResult{};
  }
  std::string authorization(const KeyPair& key, const std::string& body, std::int64_t ts) {
    return makeAuthorization(key, {"POST", "/v1/jobs", "", sha256Hex(body)}, ts, random_.hex(16));
  }
  void expectNothingWritten(std::int64_t jobs_before, std::int64_t tasks_before) {
    EXPECT_EQ(jobRows(), jobs_before);
    EXPECT_EQ(taskRows(), tasks_before);
  }
  KeyPair owner_ = KeyPair::generate();
  const std::string body_ = commandJob("1");
};

TEST_F(ApiGuardTest, UnsignedRequestIsRefused) {
  HttpResult r = rawSubmit(body_, "");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(errorStatus(r), "invalid-signature");
  expectNothingWritten(0, 0);
  HttpResult garbage = rawSubmit(body_, "DCLOUD-ED25519 nonsense");
  EXPECT_EQ(garbage.status, 401) << garbage.body;
  EXPECT_EQ(errorStatus(garbage), "invalid-signature");
  expectNothingWritten(0, 0);
}

TEST_F(ApiGuardTest, ForgedSignatureIsRefused) {
  // Mallory signs with her key but claims to be the owner.
  KeyPair mallory = KeyPair::generate();
  std::string header = authorization(mallory, body_, clock_.nowMillis());
  const std::size_t at = header.find(mallory.id());
  ASSERT_NE(at, std::string::npos);
  header.replace(at, mallory.id().size(), owner_.id());
  HttpResult r = rawSubmit(body_, header);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(errorStatus(r), "invalid-signature");
  expectNothingWritten(0, 0);
}

TEST_F(ApiGuardTest, BodyChangedAfterSigningIsRefused) {
  const std::string header = authorization(owner_, body_, clock_.nowMillis());
  HttpResult r = rawSubmit(commandJob("2"), header);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(errorStatus(r), "invalid-signature");
  expectNothingWritten(0, 0);
}

TEST_F(ApiGuardTest, ExpiredTimestampIsRefused) {
  ManualClock behind(clock_.nowMillis() - 10 * 60 * 1000);
  auto r = ApiClient(url_, &owner_, behind, random_).raw("POST", "/v1/jobs", body_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_EQ(errorStatus(*r), "refresh-nonce");
  expectNothingWritten(0, 0);
  // The same client with a correct clock gets through (the key and body were fine).
  EXPECT_EQ(post(owner_, "/v1/jobs", body_).status, 201);
  EXPECT_EQ(jobRows(), 1);
}

TEST_F(ApiGuardTest, ReplayedRequestIsRefused) {
  const std::string header = authorization(owner_, body_, clock_.nowMillis());
  HttpResult first = rawSubmit(body_, header);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(jobRows(), 1);
  const std::int64_t tasks = taskRows();
  HttpResult replay = rawSubmit(body_, header);
  EXPECT_EQ(replay.status, 409) << replay.body;
  EXPECT_EQ(errorStatus(replay), "refresh-nonce");
  expectNothingWritten(1, tasks);
}

TEST_F(ApiGuardTest, MalformedJobsAreRefusedAndWriteNothing) {
  const std::string scene = "s3://" + ownerBucket(owner_) + "/scene.blend";
  auto render = [&](const std::string& frames, const std::string& extra = "") {
    return R"({"kind": "render", "scene": ")" + scene + R"(", "frames": ")" + frames +
           R"(", "max_price": "1")" + extra + "}";
  };
  struct Case {
    const char* name;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"malformed JSON", R"({"kind": "command", "command": ["ls"],)"},
      {"not an object", R"(["command"])"},
      {"empty body", ""},
      {"unknown field", commandJob("1", R"(, "urgency": 1)")},
      {"unknown resource field",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "resources": {"ram": 1}})"},
      {"unknown kind", R"({"kind": "mine", "command": ["ls"], "max_price": "1"})"},
      {"price as a number", R"({"kind": "command", "command": ["ls"], "max_price": 1})"},
      {"negative frames", render("-5")},
      {"half a range", render("5-")},
      {"letters", render("a-b")},
      {"reversed range", render("10-1")},
      {"absurd frame number", render("1-99999999")},
      {"too many tasks", render("1-50000")},
      {"chunk 0", render("1-10", R"(, "chunk": 0)")},
      {"zero price", commandJob("0")},
      {"absurd price", commandJob("999999999")},
      {"zero attempts", commandJob("1", R"(, "max_attempts": 0)")},
      {"too many cores", R"({"kind": "command", "command": ["ls"], "max_price": "1",
                             "resources": {"cores": 5000}})"},
      {"zero timeout",
       R"({"kind": "command", "command": ["ls"], "max_price": "1", "timeout_seconds": 0})"},
      {"scene in another bucket", R"({"kind": "render", "scene": "s3://someone-else/s.blend",
          "frames": "1-2", "max_price": "1"})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult r = post(owner_, "/v1/jobs", c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(errorStatus(r), "bad-request") << r.body;
    expectNothingWritten(0, 0);
  }
}

TEST_F(ApiGuardTest, OversizedBodyIsRefused) {
  // Raw HTTP: the server answers from Content-Length alone, before the body arrives, so a client
  // still writing the body would see a broken pipe instead of the answer (ApiClient does).
  const std::string body_start =
      R"({"kind": "command", "command": ["echo", ")" + std::string(64 * 1024, 'x');
  const std::string header = authorization(owner_, body_start, clock_.nowMillis());
  const std::size_t colon = url_.rfind(':');
  const auto port = static_cast<Poco::UInt16>(std::stoi(url_.substr(colon + 1)));
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  const std::string request =
      "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nAuthorization: " +
      header + "\r\nContent-Length: " + std::to_string(1100 * 1024) + "\r\n\r\n";
  socket.sendBytes(request.data(), static_cast<int>(request.size()));
  Poco::Net::SocketStream stream(socket);
  Poco::Net::HTTPResponse response;
  response.read(stream);
  const auto length = std::max<std::streamsize>(0, response.getContentLength());
  std::string answer(static_cast<std::size_t>(length), '\0');
  stream.read(answer.data(), static_cast<std::streamsize>(answer.size()));
  HttpResult r{static_cast<int>(response.getStatus()), answer, {}};
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(errorStatus(r), "bad-request");
  expectNothingWritten(0, 0);
}

TEST_F(ApiGuardTest, InsufficientFundsIsPaymentDeclined) {
  // One task, 1 credit per hour for 3600 s, 3 attempts (each is billed): the escrow is exactly
  // 3 credits.
  KeyPair poor = KeyPair::generate();
  HttpResult broke = post(poor, "/v1/jobs", commandJob("1"));
  EXPECT_EQ(broke.status, 402) << broke.body;
  EXPECT_EQ(errorStatus(broke), "payment-declined");
  EXPECT_EQ(*getString(json(broke), "reason"), "insufficient-funds");
  expectNothingWritten(0, 0);

  fund(poor.id(), 3 * kMicrosPerCredit - 1);
  HttpResult short_by_one = post(poor, "/v1/jobs", commandJob("1"));
  EXPECT_EQ(short_by_one.status, 402) << short_by_one.body;
  expectNothingWritten(0, 0);

  fund(poor.id(), 3 * kMicrosPerCredit);
  submit(poor, commandJob("1"));
  EXPECT_EQ(jobRows(), 1);
  // The first job's escrow is held: a second one cannot spend the same credit.
  HttpResult second = post(poor, "/v1/jobs", commandJob("1"));
  EXPECT_EQ(second.status, 402) << second.body;
  EXPECT_EQ(*getString(json(second), "reason"), "insufficient-funds");
  EXPECT_EQ(jobRows(), 1);

  HttpResult account = get(poor, "/v1/accounts/" + poor.id());
  ASSERT_EQ(account.status, 200) << account.body;
  EXPECT_EQ(*getString(json(account), "held"), "3.0");
  EXPECT_EQ(*getString(json(account), "available"), "0.0");
}

TEST_F(ApiGuardTest, BidBelowEveryWorkerIsTooLowWithTheCheapestPrice) {
  KeyPair provider_a = KeyPair::generate(), provider_b = KeyPair::generate();
  registerWorker(provider_a, 4, "3");
  registerWorker(provider_b, 4, "2.5");
  HttpResult r = post(owner_, "/v1/jobs", commandJob("1"));
  EXPECT_EQ(r.status, 402) << r.body;
  EXPECT_EQ(errorStatus(r), "payment-declined");
  JsonObject body = json(r);
  EXPECT_EQ(*getString(body, "reason"), "too-low");
  EXPECT_EQ(*getString(body, "acceptable_payment"), "2.5");
  expectNothingWritten(0, 0);

  // The price is per task-hour for the task's resources: two cores cost twice as much.
  HttpResult two_cores = post(owner_, "/v1/jobs",
                              R"({"kind": "command", "command": ["ls"], "max_price": "1",
                                  "resources": {"cores": 2, "memory_mb": 512}})");
  EXPECT_EQ(two_cores.status, 402) << two_cores.body;
  EXPECT_EQ(*getString(json(two_cores), "acceptable_payment"), "5.0");
  expectNothingWritten(0, 0);

  // Bidding the acceptable payment is accepted.
  submit(owner_, commandJob("2.5"));
  EXPECT_EQ(jobRows(), 1);
}

}  // namespace
}  // namespace dcloud::scheduler::testing
