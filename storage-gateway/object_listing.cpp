#include "storage-gateway/object_listing.h"

#include <algorithm>
#include <cstdint>

#include "common/crypto.h"
#include "storage-gateway/s3_errors.h"
#include "storage-gateway/s3_names.h"

namespace dcloud::gateway {
namespace {

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string prefixSuccessor(const std::string& prefix) {
  std::string s = prefix;
  while (!s.empty()) {
    // Find the start of the last UTF-8 character.
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::string last = s.substr(start);
    s.resize(start);
    std::uint32_t cp = 0;
    const auto lead = static_cast<unsigned char>(last[0]);
    if (lead < 0x80)
      cp = lead;
    else if ((lead & 0xE0) == 0xC0)
      cp = lead & 0x1F;
    else if ((lead & 0xF0) == 0xE0)
      cp = lead & 0x0F;
    else
      cp = lead & 0x07;
    for (std::size_t i = 1; i < last.size(); ++i) {
      cp = (cp << 6) | (static_cast<unsigned char>(last[i]) & 0x3F);
    }
    if (cp >= 0x10FFFF) continue;  // no greater character: bump the one before
    ++cp;
    if (cp == 0xD800) cp = 0xE000;  // skip surrogates, which UTF-8 cannot carry
    appendUtf8(s, cp);
    return s;
  }
  return s;
}

Result<ListPage> listPage(const ListRequest& request, const FetchObjects& fetch, int batch_size) {
  ListPage page;
  if (request.max_keys <= 0) return page;
  ListCursor cursor = request.cursor;
  int entries = 0;
  for (;;) {
    Result<std::vector<ObjectRecord>> batch = fetch(cursor.from, cursor.inclusive, batch_size);
    if (!batch.ok()) return batch.error();
    if (batch->empty()) return page;
    bool restart = false;
    for (ObjectRecord& obj : *batch) {
      if (entries == request.max_keys) {
        // Something remains beyond the page.
        page.truncated = true;
        page.next = cursor;
        return page;
      }
      if (!request.delimiter.empty()) {
        const std::size_t at = obj.key.find(request.delimiter, request.prefix.size());
        if (at != std::string::npos) {
          std::string common = obj.key.substr(0, at + request.delimiter.size());
          ++entries;
          page.last_entry = common;
          cursor = ListCursor{prefixSuccessor(common), true};
          page.common_prefixes.push_back(std::move(common));
          if (cursor.from.empty()) return page;  // nothing can sort after it
          restart = true;  // skip every key under the common prefix with a new query
          break;
        }
      }
      ++entries;
      page.last_entry = obj.key;
      cursor = ListCursor{obj.key, false};
      page.contents.push_back(std::move(obj));
    }
    if (!restart && static_cast<int>(batch->size()) < batch_size) return page;
  }
}

std::string encodeContinuationToken(const ListCursor& cursor) {
  return base64Encode((cursor.inclusive ? "i:" : "x:") + cursor.from);
}

Result<ListCursor> decodeContinuationToken(const std::string& token) {
  Result<std::string> raw = base64Decode(token);
  const Error bad = s3Error("InvalidArgument", "The continuation token provided is incorrect");
  if (!raw.ok() || raw->size() < 2 || raw->at(1) != ':' ||
      (raw->at(0) != 'i' && raw->at(0) != 'x')) {
    return bad;
  }
  ListCursor cursor{raw->substr(2), raw->at(0) == 'i'};
  if (cursor.from.size() > kMaxKeyBytes + 4 || !isValidUtf8(cursor.from) ||
      cursor.from.find('\0') != std::string::npos) {
    return bad;
  }
  return cursor;
}

}  // namespace dcloud::gateway
