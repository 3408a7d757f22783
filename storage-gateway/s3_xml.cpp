#include "storage-gateway/s3_xml.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include "common/sigv4.h"
#include "storage-gateway/s3_errors.h"

namespace dcloud::gateway {
void appendXmlElement(std::string& out, const char* name, std::string_view text) {
  out += '<';
  out += name;
  out += '>';
  out += xmlEscape(text);
  out += "</";
  out += name;
  out += '>';
}

namespace {

constexpr const char* kNamespace = kS3Namespace;

void element(std::string& out, const char* name, std::string_view text) {
  appendXmlElement(out, name, text);
}

std::tm utc(std::int64_t unix_millis) {
  std::time_t secs = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out += "&#x";
          if (c >= 0x10) out += kHex[c >> 4];
          out += kHex[c & 0xF];
          out += ';';
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string isoTimestamp(std::int64_t unix_millis) {
  std::tm tm = utc(unix_millis);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_millis % 1000));
  return buf;
}

std::string httpDate(std::int64_t unix_millis) {
  std::tm tm = utc(unix_millis);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string errorXml(const std::string& code, const std::string& message,
                     const std::string& resource, const std::string& request_id) {
  std::string out = kXmlHeader;
  out += "<Error>";
  element(out, "Code", code);
  element(out, "Message", message);
  element(out, "Resource", resource);
  element(out, "RequestId", request_id);
  out += "</Error>";
  return out;
}

std::string listBucketsXml(const std::string& owner_id, const std::string& display_name,
                           const std::vector<BucketEntry>& buckets) {
  std::string out = kXmlHeader;
  out += "<ListAllMyBucketsResult xmlns=\"";
  out += kNamespace;
  out += "\"><Owner>";
  element(out, "ID", owner_id);
  element(out, "DisplayName", display_name);
  out += "</Owner><Buckets>";
  for (const BucketEntry& b : buckets) {
    out += "<Bucket>";
    element(out, "Name", b.name);
    element(out, "CreationDate", isoTimestamp(b.created_ms));
    out += "</Bucket>";
  }
  out += "</Buckets></ListAllMyBucketsResult>";
  return out;
}

std::string listObjectsXml(const ListObjectsResponse& r) {
  // With encoding-type=url, every key-like value is percent-encoded so that any key survives XML.
  auto enc = [&](const std::string& s) { return r.url_encoding ? uriEncode(s, false) : s; };
  std::string out = kXmlHeader;
  out += "<ListBucketResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  element(out, "Name", r.bucket);
  element(out, "Prefix", enc(r.prefix));
  if (r.v2) {
    if (!r.start_after.empty()) element(out, "StartAfter", enc(r.start_after));
    if (!r.continuation_token.empty()) element(out, "ContinuationToken", r.continuation_token);
    if (!r.next_token.empty()) element(out, "NextContinuationToken", r.next_token);
    element(out, "KeyCount", std::to_string(r.contents.size() + r.common_prefixes.size()));
  } else {
    element(out, "Marker", enc(r.start_after));
    if (!r.next_token.empty()) element(out, "NextMarker", enc(r.next_token));
  }
  element(out, "MaxKeys", std::to_string(r.max_keys));
  if (!r.delimiter.empty()) element(out, "Delimiter", enc(r.delimiter));
  element(out, "IsTruncated", r.truncated ? "true" : "false");
  if (r.url_encoding) element(out, "EncodingType", "url");
  for (const ListedObject& o : r.contents) {
    out += "<Contents>";
    element(out, "Key", enc(o.key));
    element(out, "LastModified", isoTimestamp(o.last_modified_ms));
    element(out, "ETag", "\"" + o.etag + "\"");
    element(out, "Size", std::to_string(o.size));
    element(out, "StorageClass", "STANDARD");
    out += "</Contents>";
  }
  for (const std::string& p : r.common_prefixes) {
    out += "<CommonPrefixes>";
    element(out, "Prefix", enc(p));
    out += "</CommonPrefixes>";
  }
  out += "</ListBucketResult>";
  return out;
}

std::string createBucketLocationXml(const std::string& region) {
  std::string out = kXmlHeader;
  out += "<LocationConstraint xmlns=\"";
  out += kNamespace;
  out += "\">";
  // us-east-1 is reported as an empty constraint, as S3 does.
  if (region != "us-east-1") out += xmlEscape(region);
  out += "</LocationConstraint>";
  return out;
}

std::string initiateMultipartUploadXml(const std::string& bucket, const std::string& key,
                                       const std::string& upload_id) {
  std::string out = kXmlHeader;
  out += "<InitiateMultipartUploadResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  element(out, "Bucket", bucket);
  element(out, "Key", key);
  element(out, "UploadId", upload_id);
  out += "</InitiateMultipartUploadResult>";
  return out;
}

std::string completeMultipartUploadXml(const std::string& location, const std::string& bucket,
                                       const std::string& key, const std::string& etag) {
  std::string out = kXmlHeader;
  out += "<CompleteMultipartUploadResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  element(out, "Location", location);
  element(out, "Bucket", bucket);
  element(out, "Key", key);
  element(out, "ETag", "\"" + etag + "\"");
  out += "</CompleteMultipartUploadResult>";
  return out;
}

Result<std::vector<CompletedPart>> parseCompleteMultipartUpload(const std::string& xml) {
  const Error malformed = s3Error("MalformedXML",
                                  "The XML you provided was not well-formed or "
                                  "did not validate against our published schema.");
  auto text = [](const std::string& block, const std::string& name) -> std::optional<std::string> {
    const std::size_t a = block.find("<" + name + ">");
    if (a == std::string::npos) return std::nullopt;
    const std::size_t start = a + name.size() + 2;
    const std::size_t b = block.find("</" + name + ">", start);
    if (b == std::string::npos) return std::nullopt;
    return block.substr(start, b - start);
  };
  std::vector<CompletedPart> parts;
  std::size_t pos = 0;
  for (;;) {
    std::size_t open = xml.find("<Part", pos);
    // "<PartNumber>" also starts with "<Part": only "<Part>" or "<Part " opens a part.
    while (open != std::string::npos && open + 5 < xml.size() && xml[open + 5] != '>' &&
           xml[open + 5] != ' ') {
      open = xml.find("<Part", open + 5);
    }
    if (open == std::string::npos) break;
    const std::size_t close = xml.find("</Part>", open);
    if (close == std::string::npos) return malformed;
    const std::string block = xml.substr(open, close - open);
    std::optional<std::string> number = text(block, "PartNumber");
    std::optional<std::string> etag = text(block, "ETag");
    if (!number || !etag || number->empty() || number->size() > 5 ||
        number->find_first_not_of("0123456789") != std::string::npos) {
      return malformed;
    }
    CompletedPart part;
    part.part_number = std::stoi(*number);
    if (part.part_number < 1 || part.part_number > 10000) return malformed;
    std::string tag = *etag;
    for (const std::string& quote :
         {std::string("&quot;"), std::string("&#34;"), std::string("\"")}) {
      for (std::size_t q = tag.find(quote); q != std::string::npos; q = tag.find(quote)) {
        tag.erase(q, quote.size());
      }
    }
    part.etag = tag;
    parts.push_back(std::move(part));
    pos = close + 7;
  }
  if (parts.empty()) return malformed;
  return parts;
}

}  // namespace dcloud::gateway
