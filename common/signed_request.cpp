#include "common/signed_request.h"

#include <charconv>
#include <map>
#include <mutex>

#include "common/crypto.h"

namespace dcloud {

std::string canonicalRequestString(const RequestToSign& req, std::int64_t ts_millis,
                                   const std::string& nonce) {
  std::string s = kAuthScheme;
  s += '\n';
  s += req.method + '\n' + req.path + '\n' + req.query + '\n' + std::to_string(ts_millis) + '\n' +
       nonce + '\n' + req.body_sha256_hex;
  return s;
}

std::string makeAuthorization(const KeyPair& key, const RequestToSign& req, std::int64_t ts_millis,
                              const std::string& nonce) {
  return std::string(kAuthScheme) + " id=" + key.id() + ", ts=" + std::to_string(ts_millis) +
         ", nonce=" + nonce + ", sig=" + key.sign(canonicalRequestString(req, ts_millis, nonce));
}

std::string signRequest(const KeyPair& key, const RequestToSign& req, const Clock& clock,
                        Random& random) {
  return makeAuthorization(key, req, clock.nowMillis(), random.hex(16));
}

Result<AuthorizationFields> parseAuthorization(const std::string& header) {
  const std::string scheme = std::string(kAuthScheme) + " ";
  if (header.empty()) return unauthenticated("request is not signed (no Authorization header)");
  if (header.rfind(scheme, 0) != 0) {
    return unauthenticated(std::string("Authorization scheme must be ") + kAuthScheme);
  }
  std::map<std::string, std::string> fields;
  std::string_view rest(header);
  rest.remove_prefix(scheme.size());
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return unauthenticated("malformed Authorization field");
    std::string name(part.substr(0, eq));
    if (fields.count(name)) return unauthenticated("duplicate Authorization field " + name);
    fields[name] = std::string(part.substr(eq + 1));
  }
  if (fields.size() != 4 || !fields.count("id") || !fields.count("ts") || !fields.count("nonce") ||
      !fields.count("sig")) {
    return unauthenticated("Authorization needs exactly id, ts, nonce and sig");
  }
  AuthorizationFields out;
  out.id = fields["id"];
  out.nonce = fields["nonce"];
  out.sig = fields["sig"];
  const std::string& ts = fields["ts"];
  auto [ptr, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), out.ts_millis);
  if (ec != std::errc() || ptr != ts.data() + ts.size() || out.ts_millis <= 0) {
    return unauthenticated("Authorization ts is not a positive integer");
  }
  if (!isValidPrincipalId(out.id)) return unauthenticated("Authorization id is not a key id");
  if (out.nonce.size() < 16 || out.nonce.size() > 64) {
    return unauthenticated("Authorization nonce must be 16 to 64 characters");
  }
  return out;
}

Result<bool> MemoryNonceStore::rememberOnce(const std::string& id, const std::string& nonce,
                                            std::int64_t) {
  std::lock_guard lock(mutex_);
  return seen_.insert(id + ":" + nonce).second;
}

Result<std::string> RequestVerifier::verify(const std::string& authorization_header,
                                            const RequestToSign& req) const {
  auto fields = parseAuthorization(authorization_header);
  if (!fields.ok()) {
    Error e = fields.error();
    e.reason = "invalid-signature";
    return e;
  }
  const std::string message = canonicalRequestString(req, fields->ts_millis, fields->nonce);
  if (!verifySignature(fields->id, message, fields->sig)) {
    return Error{ErrorCode::kUnauthenticated, "signature does not match the request",
                 "invalid-signature"};
  }
  const std::int64_t now = clock_.nowMillis();
  if (fields->ts_millis < now - max_skew_millis_ || fields->ts_millis > now + max_skew_millis_) {
    return Error{ErrorCode::kConflict,
                 "request timestamp is outside the allowed window; sign it again", "refresh-nonce"};
  }
  auto fresh = nonces_.rememberOnce(fields->id, fields->nonce, 2 * max_skew_millis_ + 60'000);
  if (!fresh.ok()) return unavailable("cannot check the nonce: " + fresh.error().message);
  if (!*fresh) {
    return Error{ErrorCode::kConflict, "nonce was already used; sign the request again",
                 "refresh-nonce"};
  }
  return fields->id;
}

}  // namespace dcloud
