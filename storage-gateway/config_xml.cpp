#include "storage-gateway/config_xml.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/SAX/XMLReader.h>

#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_xml.h"

namespace dcloud::gateway {
namespace {

constexpr int kMaxDepth = 16;

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const std::size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::string localName(const Poco::XML::Node* node) {
  std::string name = node->localName();
  return name.empty() ? node->nodeName() : name;
}

bool convert(const Poco::XML::Node* node, XmlNode& out, int depth) {
  if (depth > kMaxDepth) return false;
  out.name = localName(node);
  std::string text;
  for (Poco::XML::Node* c = node->firstChild(); c != nullptr; c = c->nextSibling()) {
    if (c->nodeType() == Poco::XML::Node::ELEMENT_NODE) {
      XmlNode child;
      if (!convert(c, child, depth + 1)) return false;
      out.children.push_back(std::move(child));
    } else if (c->nodeType() == Poco::XML::Node::TEXT_NODE ||
               c->nodeType() == Poco::XML::Node::CDATA_SECTION_NODE) {
      text += c->nodeValue();
    }
  }
  out.text = trim(text);
  return true;
}

}  // namespace

const XmlNode* XmlNode::child(const std::string& child_name) const {
  for (const XmlNode& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string XmlNode::childText(const std::string& child_name) const {
  const XmlNode* c = child(child_name);
  return c == nullptr ? "" : c->text;
}

std::vector<const XmlNode*> XmlNode::all(const std::string& child_name) const {
  std::vector<const XmlNode*> out;
  for (const XmlNode& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

Error malformedXmlError() {
  return s3Error("MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema.");
}

Result<XmlNode> parseConfigXml(const std::string& xml, const std::string& root_name) {
  try {
    Poco::XML::DOMParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(xml);
    const Poco::XML::Element* root = doc->documentElement();
    if (root == nullptr || localName(root) != root_name) return malformedXmlError();
    XmlNode out;
    if (!convert(root, out, 0)) return malformedXmlError();
    return out;
  } catch (const std::exception&) {
    return malformedXmlError();
  }
}

std::string xmlDocumentStart(const std::string& root) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + root +
         " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
}

std::string xmlDocumentEnd(const std::string& root) {
  return "</" + root + ">";
}

std::string xmlElement(const std::string& name, const std::string& text) {
  return "<" + name + ">" + xmlEscape(text) + "</" + name + ">";
}

}  // namespace dcloud::gateway
