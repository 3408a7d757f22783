#pragma once
// A small element tree for the configuration bodies clients send (lifecycle, CORS, tagging,
// object lock, ACL): parsed with Poco's DOM parser, external entities off, namespaces stripped.

#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud::gateway {

struct XmlNode {
  std::string name;  // local name
  std::string text;  // concatenated text content, trimmed of surrounding white space
  std::vector<XmlNode> children;

  // The first child named name, or nullptr.
  const XmlNode* child(const std::string& child_name) const;
  // The text of the first child named name, or "".
  std::string childText(const std::string& child_name) const;
  std::vector<const XmlNode*> all(const std::string& child_name) const;
};

// MalformedXML when xml is not well formed or its root element is not root_name.
Result<XmlNode> parseConfigXml(const std::string& xml, const std::string& root_name);
Error malformedXmlError();

// "<?xml ...?>\n<root xmlns=S3>" and "</root>".
std::string xmlDocumentStart(const std::string& root);
std::string xmlDocumentEnd(const std::string& root);
// <name>escaped text</name>
std::string xmlElement(const std::string& name, const std::string& text);

}  // namespace dcloud::gateway
