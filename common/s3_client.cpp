#include "common/s3_client.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "common/http_client.h"
#include "common/signed_request.h"

namespace dcloud {

Result<S3Location> parseS3Url(const std::string& url) {
  const std::string prefix = "s3://";
  if (url.rfind(prefix, 0) != 0) return invalidArgument("not an s3:// URL: " + url);
  std::string rest = url.substr(prefix.size());
  std::size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  loc.key = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (loc.bucket.empty()) return invalidArgument("s3 URL has no bucket: " + url);
  return loc;
}

std::string formatS3Url(const S3Location& loc) {
  return "s3://" + loc.bucket + "/" + loc.key;
}

S3Client::S3Client(std::string endpoint, SigV4Credentials creds, const Clock& clock)
    : endpoint_(std::move(endpoint)), creds_(std::move(creds)), clock_(clock) {}

S3Client::S3Client(std::string endpoint, const KeyPair& key, const Clock& clock, Random& random)
    : endpoint_(std::move(endpoint)), key_(&key), clock_(clock), random_(&random) {}

namespace {

std::string objectPath(const std::string& bucket, const std::string& key) {
  return "/" + bucket + (key.empty() ? "" : "/" + uriEncode(key, false));
}

Error s3Error(const std::string& what, int status, const std::string& body) {
  // Pull <Code> and <Message> out of an S3 error document without an XML parser.
  auto tag = [&](const std::string& name) {
    std::size_t a = body.find("<" + name + ">");
    std::size_t b = body.find("</" + name + ">");
    if (a == std::string::npos || b == std::string::npos || b < a) return std::string();
    a += name.size() + 2;
    return body.substr(a, b - a);
  };
  std::string code = tag("Code");
  std::string message = what + ": HTTP " + std::to_string(status);
  if (!code.empty()) message += " " + code;
  std::string detail = tag("Message");
  if (!detail.empty()) message += ": " + detail;
  switch (status) {
    case 403: return permissionDenied(message);
    case 404: return notFound(message);
    case 409: return conflict(message);
    case 400: return invalidArgument(message);
    case 503: return unavailable(message);
    default: return internalError(message);
  }
}

struct Exchange {
  int status = 0;
  std::string body;
};

}  // namespace

Result<std::string> S3Client::authorization(const std::string& method, const std::string& path,
                                            const std::string& payload_hash,
                                            std::map<std::string, std::string>& headers) const {
  headers["x-amz-content-sha256"] = payload_hash;
  if (key_) {
    RequestToSign to_sign{method, path, "", payload_hash};
    return signRequest(*key_, to_sign, clock_, *random_);
  }
  const std::string date = amzDate(clock_.nowMillis());
  headers["x-amz-date"] = date;
  SigV4Request req;
  req.method = method;
  req.canonical_uri = path;
  req.headers = headers;
  for (const auto& [k, v] : headers) req.signed_headers.push_back(k);
  req.payload_hash = payload_hash;
  return sigv4Authorization(creds_, req, date);
}

namespace {

// Sends one request whose body comes from body_in (may be null) and returns the response, with
// the body written to body_out when given and the status is 2xx.
Result<Exchange> send(const std::string& endpoint, const std::string& method,
                      const std::string& path, const std::map<std::string, std::string>& headers,
                      const std::string& authorization, std::istream* body_in,
                      std::int64_t body_size, std::ostream* body_out) {
  auto url = parseUrl(endpoint);
  if (!url.ok()) return url.error();
  try {
    Poco::Net::HTTPClientSession session(url->host, url->port);
    session.setTimeout(Poco::Timespan(300, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) {
      if (k != "host") req.set(k, v);
    }
    req.set("Authorization", authorization);
    if (body_in || method == "PUT") req.setContentLength64(body_size);
    std::ostream& out = session.sendRequest(req);
    if (body_in) Poco::StreamCopier::copyStream64(*body_in, out);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    Exchange ex;
    ex.status = static_cast<int>(resp.getStatus());
    if (body_out && ex.status >= 200 && ex.status < 300) {
      const std::uint64_t got = Poco::StreamCopier::copyStream64(in, *body_out);
      // Poco ends the body stream quietly when the connection closes early: a server that fails
      // mid-object (a bad chunk, a crash) must not pass for a complete, shorter object.
      if (resp.hasContentLength() && resp.getContentLength64() >= 0 &&
          got != static_cast<std::uint64_t>(resp.getContentLength64())) {
        return unavailable(method + " " + endpoint + path +
                           ": body cut short: " + std::to_string(got) + " of " +
                           std::to_string(resp.getContentLength64()) + " bytes");
      }
    } else {
      Poco::StreamCopier::copyToString(in, ex.body);
    }
    return ex;
  } catch (const Poco::Exception& e) {
    return unavailable(method + " " + endpoint + path + ": " + e.displayText());
  } catch (const std::exception& e) {
    return unavailable(method + " " + endpoint + path + ": " + e.what());
  }
}

std::string hostHeader(const std::string& endpoint) {
  auto url = parseUrl(endpoint);
  if (!url.ok()) return "";
  return url->host + ":" + std::to_string(url->port);
}

}  // namespace

Status S3Client::createBucket(const std::string& bucket) const {
  const std::string path = objectPath(bucket, "");
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)}};
  auto auth = authorization("PUT", path, kEmptySha256, headers);
  if (!auth.ok()) return auth.error();
  std::istringstream empty;
  auto ex = send(endpoint_, "PUT", path, headers, *auth, &empty, 0, nullptr);
  if (!ex.ok()) return ex.error();
  if (ex->status == 200) return okStatus();
  if (ex->status == 409 && ex->body.find("BucketAlreadyOwnedByYou") != std::string::npos) {
    return okStatus();
  }
  return s3Error("create bucket " + bucket, ex->status, ex->body);
}

Status S3Client::putObject(const std::string& bucket, const std::string& key,
                           const std::string& data, const std::string& content_type) const {
  const std::string path = objectPath(bucket, key);
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)},
                                             {"content-type", content_type}};
  auto auth = authorization("PUT", path, sha256Hex(data), headers);
  if (!auth.ok()) return auth.error();
  std::istringstream in(data);
  auto ex = send(endpoint_, "PUT", path, headers, *auth, &in,
                 static_cast<std::int64_t>(data.size()), nullptr);
  if (!ex.ok()) return ex.error();
  if (ex->status != 200) return s3Error("put s3://" + bucket + "/" + key, ex->status, ex->body);
  return okStatus();
}

Result<std::int64_t> S3Client::putFile(const std::string& bucket, const std::string& key,
                                       const std::string& file,
                                       const std::string& content_type) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) return notFound("cannot open " + file);
  Sha256 hash;
  char buf[1 << 16];
  std::int64_t size = 0;
  while (in) {
    in.read(buf, sizeof buf);
    hash.update(buf, static_cast<std::size_t>(in.gcount()));
    size += in.gcount();
  }
  in.clear();
  in.seekg(0);
  const std::string path = objectPath(bucket, key);
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)},
                                             {"content-type", content_type}};
  auto auth = authorization("PUT", path, hash.finishHex(), headers);
  if (!auth.ok()) return auth.error();
  auto ex = send(endpoint_, "PUT", path, headers, *auth, &in, size, nullptr);
  if (!ex.ok()) return ex.error();
  if (ex->status != 200) return s3Error("put s3://" + bucket + "/" + key, ex->status, ex->body);
  return size;
}

Result<std::string> S3Client::getObject(const std::string& bucket, const std::string& key) const {
  const std::string path = objectPath(bucket, key);
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)}};
  auto auth = authorization("GET", path, kEmptySha256, headers);
  if (!auth.ok()) return auth.error();
  std::ostringstream out;
  auto ex = send(endpoint_, "GET", path, headers, *auth, nullptr, 0, &out);
  if (!ex.ok()) return ex.error();
  if (ex->status != 200) return s3Error("get s3://" + bucket + "/" + key, ex->status, ex->body);
  return out.str();
}

Result<std::int64_t> S3Client::getFile(const std::string& bucket, const std::string& key,
                                       const std::string& file) const {
  const std::string path = objectPath(bucket, key);
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)}};
  auto auth = authorization("GET", path, kEmptySha256, headers);
  if (!auth.ok()) return auth.error();
  const std::string part = file + ".part";
  std::int64_t written = 0;
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    if (!out) return internalError("cannot write " + part);
    auto ex = send(endpoint_, "GET", path, headers, *auth, nullptr, 0, &out);
    if (!ex.ok()) {
      std::remove(part.c_str());
      return ex.error();
    }
    if (ex->status != 200) {
      std::remove(part.c_str());
      return s3Error("get s3://" + bucket + "/" + key, ex->status, ex->body);
    }
    out.flush();
    if (!out) {
      std::remove(part.c_str());
      return internalError("cannot write " + part);
    }
    written = static_cast<std::int64_t>(out.tellp());
  }
  if (std::rename(part.c_str(), file.c_str()) != 0) return internalError("cannot rename " + part);
  return written;
}

Result<bool> S3Client::exists(const std::string& bucket, const std::string& key) const {
  const std::string path = objectPath(bucket, key);
  std::map<std::string, std::string> headers{{"host", hostHeader(endpoint_)}};
  auto auth = authorization("HEAD", path, kEmptySha256, headers);
  if (!auth.ok()) return auth.error();
  auto ex = send(endpoint_, "HEAD", path, headers, *auth, nullptr, 0, nullptr);
  if (!ex.ok()) return ex.error();
  if (ex->status == 200) return true;
  if (ex->status == 404) return false;
  return s3Error("head s3://" + bucket + "/" + key, ex->status, ex->body);
}

}  // namespace dcloud
