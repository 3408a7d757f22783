#include "common/sigv4.h"

#include <algorithm>
#include <ctime>

#include "common/crypto.h"

namespace dcloud {

std::string uriEncode(std::string_view text, bool encode_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::string> uriDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return invalidArgument("truncated percent escape");
    auto decoded = fromHex(text.substr(i + 1, 2));
    if (!decoded.ok()) return invalidArgument("bad percent escape");
    out += *decoded;
    i += 2;
  }
  return out;
}

namespace {

std::string trimHeaderValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string sigv4CanonicalRequest(const SigV4Request& req) {
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(req.query.size());
  for (const auto& [k, v] : req.query) query.emplace_back(uriEncode(k, true), uriEncode(v, true));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += k + "=" + v;
  }
  std::string headers;
  std::string signed_list;
  for (const std::string& name : req.signed_headers) {
    auto it = req.headers.find(name);
    headers += name + ":" + (it == req.headers.end() ? "" : trimHeaderValue(it->second)) + "\n";
    if (!signed_list.empty()) signed_list += ';';
    signed_list += name;
  }
  return req.method + "\n" + req.canonical_uri + "\n" + canonical_query + "\n" + headers + "\n" +
         signed_list + "\n" + req.payload_hash;
}

std::string sigv4StringToSign(const std::string& amz_date, const std::string& scope,
                              const std::string& canonical_request) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256Hex(canonical_request);
}

std::string sigv4SigningKey(const std::string& secret, const std::string& date,
                            const std::string& region, const std::string& service) {
  std::string k = hmacSha256("AWS4" + secret, date);
  k = hmacSha256(k, region);
  k = hmacSha256(k, service);
  return hmacSha256(k, "aws4_request");
}

std::string sigv4SignatureHex(const std::string& signing_key, const std::string& string_to_sign) {
  return toHex(hmacSha256(signing_key, string_to_sign));
}

std::string sigv4Authorization(const SigV4Credentials& creds, const SigV4Request& req,
                               const std::string& amz_date) {
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + creds.region + "/" + creds.service + "/aws4_request";
  const std::string sts = sigv4StringToSign(amz_date, scope, sigv4CanonicalRequest(req));
  const std::string sig =
      sigv4SignatureHex(sigv4SigningKey(creds.secret_key, date, creds.region, creds.service), sts);
  std::string signed_list;
  for (const auto& h : req.signed_headers) {
    if (!signed_list.empty()) signed_list += ';';
    signed_list += h;
  }
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" + scope +
         ", SignedHeaders=" + signed_list + ", Signature=" + sig;
}

Result<SigV4AuthorizationFields> parseSigV4Authorization(const std::string& header) {
  const std::string prefix = "AWS4-HMAC-SHA256 ";
  if (header.rfind(prefix, 0) != 0) return invalidArgument("not an AWS4-HMAC-SHA256 header");
  SigV4AuthorizationFields out;
  std::string rest = header.substr(prefix.size());
  bool have_cred = false, have_signed = false, have_sig = false;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    std::size_t comma = rest.find(',', pos);
    std::string part =
        rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? rest.size() : comma + 1;
    part.erase(0, part.find_first_not_of(' '));
    while (!part.empty() && part.back() == ' ') part.pop_back();
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) return invalidArgument("malformed Authorization component");
    std::string name = part.substr(0, eq);
    std::string value = part.substr(eq + 1);
    if (name == "Credential") {
      // AKID/yyyymmdd/region/service/aws4_request; the access key itself has no '/'.
      std::vector<std::string> parts;
      std::size_t s = 0;
      while (true) {
        std::size_t slash = value.find('/', s);
        parts.push_back(
            value.substr(s, slash == std::string::npos ? std::string::npos : slash - s));
        if (slash == std::string::npos) break;
        s = slash + 1;
      }
      if (parts.size() != 5 || parts[4] != "aws4_request" || parts[1].size() != 8) {
        return invalidArgument("malformed Credential");
      }
      out.access_key = parts[0];
      out.date = parts[1];
      out.region = parts[2];
      out.service = parts[3];
      have_cred = true;
    } else if (name == "SignedHeaders") {
      std::size_t s = 0;
      while (s <= value.size()) {
        std::size_t semi = value.find(';', s);
        std::string h = value.substr(s, semi == std::string::npos ? std::string::npos : semi - s);
        if (h.empty()) return invalidArgument("empty name in SignedHeaders");
        out.signed_headers.push_back(h);
        if (semi == std::string::npos) break;
        s = semi + 1;
      }
      have_signed = true;
    } else if (name == "Signature") {
      out.signature = value;
      have_sig = true;
    }
  }
  if (!have_cred || !have_signed || !have_sig) {
    return invalidArgument("Authorization needs Credential, SignedHeaders and Signature");
  }
  return out;
}

std::string amzDate(std::int64_t unix_millis) {
  std::time_t secs = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace dcloud
