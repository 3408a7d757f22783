// Fuzz target: the S3 request parser (method, URI, headers, virtual hosts) and the header fields
// the authenticator parses before any signature check. Input layout (all optional):
//   line 1: "METHOD URI", further lines: "name: value" headers, a line "--domains a,b" sets the
//   virtual-host domains. Whatever the bytes, nothing may crash and the results must be
//   self-consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/sigv4.h"
#include "storage-gateway/authenticator.h"
#include "storage-gateway/s3_request.h"

namespace {

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dcloud;
  using namespace dcloud::gateway;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> lines = splitLines(input);
  std::string method = "GET";
  std::string uri = "/";
  if (!lines.empty()) {
    const std::size_t space = lines[0].find(' ');
    method = std::string(lines[0].substr(0, space));
    uri = space == std::string_view::npos ? "" : std::string(lines[0].substr(space + 1));
  }
  std::map<std::string, std::string> headers;
  std::vector<std::string> domain_options;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.substr(0, 10) == "--domains ") {
      domain_options.emplace_back(line.substr(10));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers[name] = std::string(value);
  }
  const std::vector<std::string> domains = splitDomains(domain_options);
  for (const std::string& d : domains) check(!d.empty());

  Result<S3Request> req = parseS3Request(method, uri, headers, domains);
  if (req.ok()) {
    check(!req->raw_path.empty() && req->raw_path[0] == '/');
    check(req->method == method);
    // The raw path and query are the URI's, unchanged: signatures are computed over them.
    check(uri.compare(0, req->raw_path.size(), req->raw_path) == 0);
    for (const auto& [name, value] : req->query) check(req->hasQuery(name));
    if (auto host = headers.find("host"); host != headers.end()) {
      if (auto bucket = virtualHostBucket(host->second, domains)) check(*bucket == req->bucket);
    }
  }
  (void)parseQuery(std::string(input));
  (void)uriDecode(input);
  (void)uriEncode(input, input.size() % 2 == 0);
  for (const auto& [name, value] : headers) {
    if (name == "authorization") (void)parseSigV4Authorization(value);
    if (name == "x-amz-date") (void)parseAmzDate(value);
    if (name == "x-amz-content-sha256") (void)isLowerHexSha256(value);
  }
  return 0;
}
