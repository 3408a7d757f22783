#include "common/http_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <charconv>
#include <chrono>
#include <mutex>

#include "common/crypto.h"
#include "common/http_errors.h"
#include "common/signed_request.h"

namespace dcloud {

Result<Url> parseUrl(const std::string& text) {
  Url url;
  std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return invalidArgument("URL needs a scheme: " + text);
  url.scheme = text.substr(0, scheme_end);
  if (url.scheme != "http" && url.scheme != "https") {
    return invalidArgument("URL scheme must be http or https: " + text);
  }
  std::size_t host_start = scheme_end + 3;
  std::size_t path_start = text.find('/', host_start);
  std::string authority = text.substr(
      host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  url.path = path_start == std::string::npos ? "/" : text.substr(path_start);
  std::size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    url.host = authority.substr(0, colon);
    const std::string port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return invalidArgument("bad port in URL: " + text);
    }
    url.port = static_cast<std::uint16_t>(value);
  } else {
    url.host = authority;
    url.port = url.scheme == "https" ? 443 : 80;
  }
  if (url.host.empty()) return invalidArgument("URL has no host: " + text);
  return url;
}

namespace {

void setTimeout(Poco::Net::HTTPClientSession& session, int timeout_millis) {
  session.setTimeout(Poco::Timespan(static_cast<long>(timeout_millis) / 1000,
                                    static_cast<long>(timeout_millis % 1000) * 1000));
}

// One request and its whole answer on session. Poco exceptions escape to the caller.
HttpResult exchange(Poco::Net::HTTPClientSession& session, const std::string& method,
                    const std::string& path, const HeaderList& headers, const std::string& body,
                    bool* keep_alive) {
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(keep_alive != nullptr);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.setContentLength64(static_cast<std::int64_t>(body.size()));
  }
  bool sent = true;
  try {
    std::ostream& out = session.sendRequest(req);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
  } catch (const Poco::Exception&) {
    // The server may answer before reading the whole body (e.g. "body too large") and close
    // the connection; its answer is more useful than our broken pipe, so try to read it.
    sent = false;
  }
  Poco::Net::HTTPResponse resp;
  std::istream& in = session.receiveResponse(resp);
  HttpResult result;
  result.status = static_cast<int>(resp.getStatus());
  Poco::StreamCopier::copyToString(in, result.body);
  for (const auto& [k, v] : resp) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    result.headers[name] = v;
  }
  if (keep_alive) *keep_alive = sent && resp.getKeepAlive();
  return result;
}

template <typename F>
Result<HttpResult> catchHttp(const std::string& what, F&& f) {
  try {
    return f();
  } catch (const Poco::TimeoutException& e) {
    return deadlineExceeded(what + ": timed out");
  } catch (const Poco::Exception& e) {
    return unavailable(what + ": " + e.displayText());
  } catch (const std::exception& e) {
    return unavailable(what + ": " + e.what());
  }
}

}  // namespace

Result<HttpResult> httpRequest(const std::string& method, const std::string& url_text,
                               const HeaderList& headers, const std::string& body,
                               int timeout_millis) {
  auto url = parseUrl(url_text);
  if (!url.ok()) return url.error();
  if (url->scheme != "http") return invalidArgument("only http:// is supported by this client");
  return catchHttp(method + " " + url_text, [&] {
    Poco::Net::HTTPClientSession session(url->host, url->port);
    setTimeout(session, timeout_millis);
    return exchange(session, method, url->path, headers, body, nullptr);
  });
}

// Connections idle longer than kIdleLimit are closed rather than reused: servers (ours keep idle
// connections 5 s) may close them first, and each idle connection holds a server thread.
struct ApiClient::ConnectionPool {
  static constexpr std::size_t kMaxIdle = 8;
  static constexpr std::chrono::milliseconds kIdleLimit{2000};
  struct Idle {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    std::chrono::steady_clock::time_point since;
  };
  Url url;
  std::mutex mutex;
  std::vector<Idle> idle;

  // A kept connection (reused = true) or a new one.
  std::unique_ptr<Poco::Net::HTTPClientSession> take(bool* reused) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex);
    while (!idle.empty()) {
      Idle last = std::move(idle.back());
      idle.pop_back();
      if (now - last.since < kIdleLimit) {
        *reused = true;
        return std::move(last.session);
      }
    }
    *reused = false;
    auto session = std::make_unique<Poco::Net::HTTPClientSession>(url.host, url.port);
    session->setKeepAlive(true);
    return session;
  }
  void give(std::unique_ptr<Poco::Net::HTTPClientSession> session) {
    std::lock_guard lock(mutex);
    if (idle.size() < kMaxIdle)
      idle.push_back({std::move(session), std::chrono::steady_clock::now()});
  }
};

ApiClient::ApiClient(std::string base_url, const KeyPair* key, const Clock& clock, Random& random)
    : base_url_(std::move(base_url)), key_(key), clock_(clock), random_(random) {
  auto url = parseUrl(base_url_);
  if (url.ok() && url->scheme == "http") {
    pool_ = std::make_shared<ConnectionPool>();
    pool_->url = *url;
  }
}

Result<HttpResult> ApiClient::raw(const std::string& method, const std::string& path,
                                  const std::string& body, int timeout_millis) const {
  HeaderList headers;
  headers.emplace_back("Content-Type", "application/json");
  if (key_) {
    std::size_t q = path.find('?');
    RequestToSign to_sign{method, path.substr(0, q),
                          q == std::string::npos ? "" : path.substr(q + 1), sha256Hex(body)};
    headers.emplace_back("Authorization", signRequest(*key_, to_sign, clock_, random_));
  }
  if (!pool_) return httpRequest(method, base_url_ + path, headers, body, timeout_millis);
  const std::string what = method + " " + base_url_ + path;
  const std::string full_path = pool_->url.path == "/" ? path : pool_->url.path + path;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    std::unique_ptr<Poco::Net::HTTPClientSession> session = pool_->take(&reused);
    bool keep = false;
    Result<HttpResult> result = catchHttp(what, [&] {
      setTimeout(*session, timeout_millis);
      return exchange(*session, method, full_path, headers, body, &keep);
    });
    if (result.ok()) {
      if (keep) pool_->give(std::move(session));
      return result;
    }
    // A kept connection the server closed meanwhile fails before any answer: send once more on a
    // new one. The request is the same signed one, so should the first copy have been executed
    // after all, the server refuses the second as a replay: never twice.
    if (!reused || attempt > 0 || result.error().code == ErrorCode::kDeadlineExceeded) {
      return result;
    }
  }
}

Result<JsonObject> ApiClient::call(const std::string& method, const std::string& path,
                                   const JsonObject& body, int timeout_millis) const {
  auto resp = raw(method, path, body ? toJson(body) : std::string(), timeout_millis);
  if (!resp.ok()) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return errorFromHttp(resp->status, resp->body);
  if (resp->body.empty()) return JsonObject(new Poco::JSON::Object);
  auto obj = parseJsonObject(resp->body);
  if (!obj.ok()) return internalError("server sent malformed JSON: " + obj.error().message);
  return obj;
}

}  // namespace dcloud
