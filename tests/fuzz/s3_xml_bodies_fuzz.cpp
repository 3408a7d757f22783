// Fuzz target: the XML request bodies (DeleteObjects, VersioningConfiguration) and the responses
// built from what they parse. Any input must give a value or MalformedXML, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "storage-gateway/s3_xml_bodies.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dcloud::gateway;
  const std::string xml(reinterpret_cast<const char*>(data), size);
  dcloud::Result<DeleteObjectsBody> del = parseDeleteObjects(xml);
  if (del.ok()) {
    check(!del->objects.empty() && del->objects.size() <= kMaxDeleteObjects);
    std::vector<DeleteResultEntry> entries;
    for (const DeleteObjectsBody::Entry& e : del->objects) {
      entries.push_back({e.key, e.version_id.value_or(""), false, "", "", ""});
    }
    check(!deleteResultXml(entries, del->quiet).empty());
  } else {
    check(del.error().reason == "MalformedXML");
  }
  dcloud::Result<std::string> status = parseVersioningStatus(xml);
  if (status.ok()) {
    check(*status == "Enabled" || *status == "Suspended");
    check(!versioningConfigurationXml(*status).empty());
  } else {
    check(status.error().reason == "MalformedXML");
  }
  return 0;
}
