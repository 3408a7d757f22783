#pragma once
// A small S3 client for workers and the CLI: path-style requests to the dcloud gateway, signed
// with SigV4 (access keys) or with the caller's ed25519 key (DCLOUD-ED25519, accepted by the
// gateway for principals). Files are streamed, never held in memory whole.

#include <cstdint>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/identity.h"
#include "common/random.h"
#include "common/result.h"
#include "common/sigv4.h"

namespace dcloud {

struct S3Location {
  std::string bucket;
  std::string key;  // may be empty or a prefix
};
// "s3://bucket/some/key" -> {bucket, "some/key"}.
Result<S3Location> parseS3Url(const std::string& url);
std::string formatS3Url(const S3Location& loc);

class S3Client {
 public:
  S3Client(std::string endpoint, SigV4Credentials creds, const Clock& clock);
  S3Client(std::string endpoint, const KeyPair& key, const Clock& clock, Random& random);

  // Creates the bucket; ok if the caller already owns it.
  Status createBucket(const std::string& bucket) const;
  Status putObject(const std::string& bucket, const std::string& key, const std::string& data,
                   const std::string& content_type = "application/octet-stream") const;
  // Streams the file; returns the bytes sent.
  Result<std::int64_t> putFile(const std::string& bucket, const std::string& key,
                               const std::string& path,
                               const std::string& content_type = "application/octet-stream") const;
  Result<std::string> getObject(const std::string& bucket, const std::string& key) const;
  // Streams the object into path (written to path.part, then renamed); returns the bytes written.
  Result<std::int64_t> getFile(const std::string& bucket, const std::string& key,
                               const std::string& path) const;
  // True if the object exists (HEAD).
  Result<bool> exists(const std::string& bucket, const std::string& key) const;

 private:
  Result<std::string> authorization(const std::string& method, const std::string& path,
                                    const std::string& payload_hash,
                                    std::map<std::string, std::string>& headers) const;
  std::string endpoint_;
  SigV4Credentials creds_;
  const KeyPair* key_ = nullptr;
  const Clock& clock_;
  Random* random_ = nullptr;
};

}  // namespace dcloud
