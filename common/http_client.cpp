#include "common/http_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <charconv>

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

Result<HttpResult> httpRequest(const std::string& method, const std::string& url_text,
                               const HeaderList& headers, const std::string& body,
                               int timeout_millis) {
  auto url = parseUrl(url_text);
  if (!url.ok()) return url.error();
  if (url->scheme != "http") return invalidArgument("only http:// is supported by this client");
  try {
    Poco::Net::HTTPClientSession session(url->host, url->port);
    session.setTimeout(Poco::Timespan(static_cast<long>(timeout_millis) / 1000,
                                      static_cast<long>(timeout_millis % 1000) * 1000));
    Poco::Net::HTTPRequest req(method, url->path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.setContentLength64(static_cast<std::int64_t>(body.size()));
    }
    try {
      std::ostream& out = session.sendRequest(req);
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
    } catch (const Poco::Exception&) {
      // The server may answer before reading the whole body (e.g. "body too large") and close
      // the connection; its answer is more useful than our broken pipe, so try to read it.
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
    return result;
  } catch (const Poco::TimeoutException& e) {
    return deadlineExceeded(method + " " + url_text + ": timed out");
  } catch (const Poco::Exception& e) {
    return unavailable(method + " " + url_text + ": " + e.displayText());
  } catch (const std::exception& e) {
    return unavailable(method + " " + url_text + ": " + e.what());
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
  return httpRequest(method, base_url_ + path, headers, body, timeout_millis);
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
