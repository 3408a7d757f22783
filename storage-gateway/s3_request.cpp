#include "storage-gateway/s3_request.h"

#include <cctype>

#include "common/sigv4.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {

bool S3Request::hasQuery(const std::string& name) const {
  return queryValue(name).has_value();
}

std::optional<std::string> S3Request::queryValue(const std::string& name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string S3Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Result<std::vector<std::pair<std::string, std::string>>> parseQuery(const std::string& raw) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos <= raw.size() && !raw.empty()) {
    std::size_t amp = raw.find('&', pos);
    if (amp == std::string::npos) amp = raw.size();
    std::string part = raw.substr(pos, amp - pos);
    if (!part.empty()) {
      std::size_t eq = part.find('=');
      Result<std::string> name = uriDecode(part.substr(0, eq));
      Result<std::string> value =
          uriDecode(eq == std::string::npos ? std::string() : part.substr(eq + 1));
      if (!name.ok() || !value.ok()) {
        return s3Error("InvalidURI", "Couldn't parse the specified URI.");
      }
      out.emplace_back(std::move(*name), std::move(*value));
    }
    pos = amp + 1;
  }
  return out;
}

namespace {

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trimDots(std::string s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && (s.front() == '.' || s.front() == ' ')) s.erase(0, 1);
  return s;
}

}  // namespace

std::optional<std::string> virtualHostBucket(const std::string& host,
                                             const std::vector<std::string>& domains) {
  if (domains.empty() || host.empty() || host[0] == '[') return std::nullopt;  // IPv6 literal
  std::string name = host.substr(0, host.rfind(':'));
  if (host.find(':') != host.rfind(':')) return std::nullopt;  // not host[:port]
  name = lowerAscii(name);
  if (!name.empty() && name.back() == '.') name.pop_back();  // fully qualified form
  for (const std::string& domain : domains) {
    if (domain.empty() || name.size() < domain.size() + 2) continue;
    const std::size_t split = name.size() - domain.size();
    if (name[split - 1] == '.' && name.compare(split, std::string::npos, domain) == 0) {
      return name.substr(0, split - 1);
    }
  }
  return std::nullopt;
}

std::vector<std::string> splitDomains(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    std::size_t pos = 0;
    while (pos <= value.size()) {
      std::size_t comma = value.find(',', pos);
      if (comma == std::string::npos) comma = value.size();
      std::string domain = trimDots(lowerAscii(value.substr(pos, comma - pos)));
      if (!domain.empty()) out.push_back(std::move(domain));
      pos = comma + 1;
    }
  }
  return out;
}

Result<S3Request> parseS3Request(const std::string& method, const std::string& uri,
                                 std::map<std::string, std::string> headers,
                                 const std::vector<std::string>& domains) {
  S3Request req;
  req.method = method;
  req.headers = std::move(headers);
  const std::size_t q = uri.find('?');
  req.raw_path = uri.substr(0, q);
  if (q != std::string::npos) req.raw_query = uri.substr(q + 1);
  if (req.raw_path.empty() || req.raw_path[0] != '/') {
    return s3Error("InvalidURI", "Couldn't parse the specified URI.");
  }
  Result<std::vector<std::pair<std::string, std::string>>> query = parseQuery(req.raw_query);
  if (!query.ok()) return query.error();
  req.query = std::move(*query);
  auto host = req.headers.find("host");
  if (host != req.headers.end()) {
    if (std::optional<std::string> bucket = virtualHostBucket(host->second, domains)) {
      req.bucket = std::move(*bucket);
      Result<std::string> key = uriDecode(req.raw_path.substr(1));
      if (!key.ok()) return s3Error("InvalidURI", "Couldn't parse the specified URI.");
      req.key = std::move(*key);
      return req;
    }
  }
  // Bucket names never contain '%' or '/', so the first segment needs no decoding to be split
  // off; the rest is the key, decoded once.
  const std::size_t slash = req.raw_path.find('/', 1);
  Result<std::string> bucket =
      uriDecode(req.raw_path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1));
  if (!bucket.ok()) return s3Error("InvalidURI", "Couldn't parse the specified URI.");
  req.bucket = std::move(*bucket);
  if (slash != std::string::npos) {
    Result<std::string> key = uriDecode(req.raw_path.substr(slash + 1));
    if (!key.ok()) return s3Error("InvalidURI", "Couldn't parse the specified URI.");
    req.key = std::move(*key);
  }
  return req;
}

}  // namespace dcloud::gateway
