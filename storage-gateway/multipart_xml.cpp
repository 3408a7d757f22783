#include "storage-gateway/multipart_xml.h"

#include <string_view>

#include "common/sigv4.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr const char* kNamespace = kS3Namespace;

void element(std::string& out, const char* name, std::string_view text) {
  appendXmlElement(out, name, text);
}

void open(std::string& out, const char* root) {
  out = kXmlHeader;
  out += '<';
  out += root;
  out += " xmlns=\"";
  out += kNamespace;
  out += "\">";
}

void principal(std::string& out, const char* name, const std::string& id) {
  out += '<';
  out += name;
  out += '>';
  element(out, "ID", id);
  element(out, "DisplayName", id);
  out += "</";
  out += name;
  out += '>';
}

}  // namespace

std::string copyPartResultXml(const std::string& etag, std::int64_t last_modified_ms) {
  std::string out;
  open(out, "CopyPartResult");
  element(out, "LastModified", isoTimestamp(last_modified_ms));
  element(out, "ETag", "\"" + etag + "\"");
  out += "</CopyPartResult>";
  return out;
}

std::string listPartsXml(const ListPartsResponse& r) {
  std::string out;
  open(out, "ListPartsResult");
  element(out, "Bucket", r.bucket);
  element(out, "Key", r.key);
  element(out, "UploadId", r.upload_id);
  principal(out, "Initiator", r.owner);
  principal(out, "Owner", r.owner);
  element(out, "StorageClass", "STANDARD");
  element(out, "PartNumberMarker", std::to_string(r.part_number_marker));
  element(out, "NextPartNumberMarker", std::to_string(r.next_part_number_marker));
  element(out, "MaxParts", std::to_string(r.max_parts));
  element(out, "IsTruncated", r.truncated ? "true" : "false");
  for (const PartRecord& p : r.parts) {
    out += "<Part>";
    element(out, "PartNumber", std::to_string(p.part_number));
    element(out, "LastModified", isoTimestamp(p.uploaded_ms));
    element(out, "ETag", "\"" + p.etag + "\"");
    element(out, "Size", std::to_string(p.size));
    out += "</Part>";
  }
  out += "</ListPartsResult>";
  return out;
}

std::string listMultipartUploadsXml(const ListUploadsResponse& r) {
  auto enc = [&](const std::string& s) { return r.url_encoding ? uriEncode(s, false) : s; };
  std::string out;
  open(out, "ListMultipartUploadsResult");
  element(out, "Bucket", r.bucket);
  element(out, "KeyMarker", enc(r.request.key_marker));
  element(out, "UploadIdMarker", r.request.upload_id_marker);
  element(out, "NextKeyMarker", enc(r.page.next_key_marker));
  element(out, "NextUploadIdMarker", r.page.next_upload_id_marker);
  if (!r.request.prefix.empty()) element(out, "Prefix", enc(r.request.prefix));
  if (!r.request.delimiter.empty()) element(out, "Delimiter", enc(r.request.delimiter));
  element(out, "MaxUploads", std::to_string(r.request.max_uploads));
  element(out, "IsTruncated", r.page.truncated ? "true" : "false");
  if (r.url_encoding) element(out, "EncodingType", "url");
  for (const MultipartUploadRecord& u : r.page.uploads) {
    out += "<Upload>";
    element(out, "Key", enc(u.key));
    element(out, "UploadId", u.upload_id);
    principal(out, "Initiator", u.principal);
    principal(out, "Owner", u.principal);
    element(out, "StorageClass", "STANDARD");
    element(out, "Initiated", isoTimestamp(u.created_ms));
    out += "</Upload>";
  }
  for (const std::string& p : r.page.common_prefixes) {
    out += "<CommonPrefixes>";
    element(out, "Prefix", enc(p));
    out += "</CommonPrefixes>";
  }
  out += "</ListMultipartUploadsResult>";
  return out;
}

}  // namespace dcloud::gateway
