#include "storage-gateway/s3_xml_bodies.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/SAX/XMLReader.h>

#include "common/sigv4.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr const char* kNamespace = kS3Namespace;

void element(std::string& out, const char* name, const std::string& text) {
  appendXmlElement(out, name, text);
}

Error malformedXml() {
  return s3Error("MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema.");
}

std::string localName(const Poco::XML::Node* node) {
  std::string name = node->localName();
  return name.empty() ? node->nodeName() : name;
}

// The element children of node.
std::vector<Poco::XML::Element*> children(Poco::XML::Node* node) {
  std::vector<Poco::XML::Element*> out;
  for (Poco::XML::Node* c = node->firstChild(); c != nullptr; c = c->nextSibling()) {
    if (c->nodeType() == Poco::XML::Node::ELEMENT_NODE) {
      out.push_back(static_cast<Poco::XML::Element*>(c));
    }
  }
  return out;
}

// Parses xml and returns its root element named root_name, or MalformedXML. The document is
// returned too, as it owns the elements.
Result<Poco::AutoPtr<Poco::XML::Document>> parseRoot(const std::string& xml,
                                                     const std::string& root_name) {
  try {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(xml);
    Poco::XML::Element* root = doc->documentElement();
    if (root == nullptr || localName(root) != root_name) return malformedXml();
    return doc;
  } catch (const std::exception&) {
    return malformedXml();
  }
}

}  // namespace

Result<DeleteObjectsBody> parseDeleteObjects(const std::string& xml) {
  Result<Poco::AutoPtr<Poco::XML::Document>> doc = parseRoot(xml, "Delete");
  if (!doc.ok()) return doc.error();
  DeleteObjectsBody body;
  for (Poco::XML::Element* e : children((*doc)->documentElement())) {
    const std::string name = localName(e);
    if (name == "Quiet") {
      const std::string text = e->innerText();
      if (text != "true" && text != "false") return malformedXml();
      body.quiet = text == "true";
    } else if (name == "Object") {
      DeleteObjectsBody::Entry entry;
      bool has_key = false;
      for (Poco::XML::Element* f : children(e)) {
        if (localName(f) == "Key") {
          entry.key = f->innerText();
          has_key = true;
        } else if (localName(f) == "VersionId") {
          entry.version_id = f->innerText();
        }
      }
      if (!has_key) return malformedXml();
      body.objects.push_back(std::move(entry));
      if (body.objects.size() > kMaxDeleteObjects) return malformedXml();
    }
  }
  if (body.objects.empty()) return malformedXml();
  return body;
}

Result<std::string> parseVersioningStatus(const std::string& xml) {
  Result<Poco::AutoPtr<Poco::XML::Document>> doc = parseRoot(xml, "VersioningConfiguration");
  if (!doc.ok()) return doc.error();
  for (Poco::XML::Element* e : children((*doc)->documentElement())) {
    if (localName(e) != "Status") continue;
    const std::string status = e->innerText();
    if (status == "Enabled" || status == "Suspended") return status;
    return malformedXml();
  }
  return malformedXml();
}

std::string deleteResultXml(const std::vector<DeleteResultEntry>& entries, bool quiet) {
  std::string out = kXmlHeader;
  out += "<DeleteResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  for (const DeleteResultEntry& e : entries) {
    if (!e.error_code.empty()) {
      out += "<Error>";
      element(out, "Key", e.key);
      if (!e.version_id.empty()) element(out, "VersionId", e.version_id);
      element(out, "Code", e.error_code);
      element(out, "Message", e.error_message);
      out += "</Error>";
      continue;
    }
    if (quiet) continue;
    out += "<Deleted>";
    element(out, "Key", e.key);
    if (!e.version_id.empty()) element(out, "VersionId", e.version_id);
    if (e.delete_marker) {
      element(out, "DeleteMarker", "true");
      element(out, "DeleteMarkerVersionId", e.delete_marker_version_id);
    }
    out += "</Deleted>";
  }
  out += "</DeleteResult>";
  return out;
}

std::string copyObjectResultXml(const std::string& etag, std::int64_t last_modified_ms) {
  std::string out = kXmlHeader;
  out += "<CopyObjectResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  element(out, "LastModified", isoTimestamp(last_modified_ms));
  element(out, "ETag", "\"" + etag + "\"");
  out += "</CopyObjectResult>";
  return out;
}

std::string versioningConfigurationXml(const std::string& status) {
  std::string out = kXmlHeader;
  out += "<VersioningConfiguration xmlns=\"";
  out += kNamespace;
  out += "\">";
  if (!status.empty()) element(out, "Status", status);
  out += "</VersioningConfiguration>";
  return out;
}

std::string listVersionsXml(const ListVersionsResponse& r) {
  auto enc = [&](const std::string& s) { return r.url_encoding ? uriEncode(s, false) : s; };
  std::string out = kXmlHeader;
  out += "<ListVersionsResult xmlns=\"";
  out += kNamespace;
  out += "\">";
  element(out, "Name", r.bucket);
  element(out, "Prefix", enc(r.prefix));
  element(out, "KeyMarker", enc(r.key_marker));
  element(out, "VersionIdMarker", r.version_id_marker);
  if (r.truncated) {
    element(out, "NextKeyMarker", enc(r.next_key_marker));
    if (!r.next_version_id_marker.empty()) {
      element(out, "NextVersionIdMarker", r.next_version_id_marker);
    }
  }
  element(out, "MaxKeys", std::to_string(r.max_keys));
  if (!r.delimiter.empty()) element(out, "Delimiter", enc(r.delimiter));
  element(out, "IsTruncated", r.truncated ? "true" : "false");
  if (r.url_encoding) element(out, "EncodingType", "url");
  for (const ListedVersion& v : r.versions) {
    out += v.delete_marker ? "<DeleteMarker>" : "<Version>";
    element(out, "Key", enc(v.key));
    element(out, "VersionId", v.version_id);
    element(out, "IsLatest", v.is_latest ? "true" : "false");
    element(out, "LastModified", isoTimestamp(v.last_modified_ms));
    if (!v.delete_marker) {
      element(out, "ETag", "\"" + v.etag + "\"");
      element(out, "Size", std::to_string(v.size));
      element(out, "StorageClass", "STANDARD");
    }
    out += "<Owner>";
    element(out, "ID", r.owner_id);
    element(out, "DisplayName", r.owner_name);
    out += "</Owner>";
    out += v.delete_marker ? "</DeleteMarker>" : "</Version>";
  }
  for (const std::string& p : r.common_prefixes) {
    out += "<CommonPrefixes>";
    element(out, "Prefix", enc(p));
    out += "</CommonPrefixes>";
  }
  out += "</ListVersionsResult>";
  return out;
}

}  // namespace dcloud::gateway
