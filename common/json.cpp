#include "common/json.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

namespace dcloud {

namespace {

// Poco's parser accepts some non-JSON (e.g. comments) and would recurse without bound on deep
// nesting; refuse deep documents before parsing.
bool nestingWithin(const std::string& text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// Poco 1.11 reads integer literals past 64 bits wrapped around (18446744073709551616 as 0), so
// such literals are refused before parsing. Outside strings, digits only occur in numbers.
bool integersInRange(const std::string& text) {
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && !std::isdigit(static_cast<unsigned char>(c))) continue;
    std::size_t end = c == '-' ? i + 1 : i;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    const bool integer =
        end == text.size() || (text[end] != '.' && text[end] != 'e' && text[end] != 'E');
    if (integer) {
      std::errc ec;
      if (c == '-') {
        std::int64_t v = 0;
        ec = std::from_chars(text.data() + i, text.data() + end, v).ec;
      } else {
        std::uint64_t v = 0;
        ec = std::from_chars(text.data() + i, text.data() + end, v).ec;
      }
      if (ec == std::errc::result_out_of_range) return false;
    }
    // Skip the rest of the token (fraction, exponent) so its digits are not read as a number.
    while (end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.' ||
            text[end] == 'e' || text[end] == 'E' || text[end] == '+' || text[end] == '-')) {
      ++end;
    }
    i = end - 1;
  }
  return true;
}

Result<Poco::Dynamic::Var> field(const JsonObject& obj, const std::string& key) {
  if (!obj->has(key)) return invalidArgument("field '" + key + "' is required");
  return obj->get(key);
}

Result<std::int64_t> asInt(const Poco::Dynamic::Var& v, const std::string& key) {
  try {
    // Poco counts a bool as an integer; JSON does not.
    if (v.isBoolean()) return invalidArgument("field '" + key + "' must be an integer");
    if (v.isInteger()) {
      if (!v.isSigned()) {
        std::uint64_t u = v.convert<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return invalidArgument("field '" + key + "' is out of range");
        }
        return static_cast<std::int64_t>(u);
      }
      return v.convert<std::int64_t>();
    }
    if (v.isNumeric()) {
      double d = v.convert<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
        return static_cast<std::int64_t>(d);
      }
    }
  } catch (const Poco::Exception&) {
  }
  return invalidArgument("field '" + key + "' must be an integer");
}

}  // namespace

Result<JsonObject> parseJsonObject(const std::string& text) {
  if (!nestingWithin(text, 32)) return invalidArgument("JSON is nested too deeply");
  if (!integersInRange(text)) return invalidArgument("JSON holds an integer out of range");
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(text);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
      return invalidArgument("body must be a JSON object");
    }
    return v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return invalidArgument("malformed JSON: " + e.displayText());
  } catch (const std::exception& e) {
    return invalidArgument(std::string("malformed JSON: ") + e.what());
  }
}

std::string toJson(const JsonObject& obj) {
  std::ostringstream out;
  obj->stringify(out);
  return out.str();
}

std::string toJson(const JsonArray& arr) {
  std::ostringstream out;
  arr->stringify(out);
  return out.str();
}

Status requireOnlyFields(const JsonObject& obj, std::initializer_list<const char*> allowed) {
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& name : obj->getNames()) {
    if (!ok.count(name)) return invalidArgument("unknown field '" + name + "'");
  }
  return okStatus();
}

Result<std::string> getString(const JsonObject& obj, const std::string& key) {
  auto v = field(obj, key);
  if (!v.ok()) return v.error();
  if (!v->isString()) return invalidArgument("field '" + key + "' must be a string");
  return v->convert<std::string>();
}

Result<std::optional<std::string>> getOptionalString(const JsonObject& obj,
                                                     const std::string& key) {
  if (!obj->has(key) || obj->isNull(key)) return std::optional<std::string>();
  auto s = getString(obj, key);
  if (!s.ok()) return s.error();
  return std::optional<std::string>(*s);
}

Result<std::int64_t> getInt(const JsonObject& obj, const std::string& key) {
  auto v = field(obj, key);
  if (!v.ok()) return v.error();
  return asInt(*v, key);
}

Result<std::optional<std::int64_t>> getOptionalInt(const JsonObject& obj, const std::string& key) {
  if (!obj->has(key) || obj->isNull(key)) return std::optional<std::int64_t>();
  auto i = getInt(obj, key);
  if (!i.ok()) return i.error();
  return std::optional<std::int64_t>(*i);
}

Result<std::optional<bool>> getOptionalBool(const JsonObject& obj, const std::string& key) {
  if (!obj->has(key) || obj->isNull(key)) return std::optional<bool>();
  Poco::Dynamic::Var v = obj->get(key);
  if (!v.isBoolean()) return invalidArgument("field '" + key + "' must be true or false");
  return std::optional<bool>(v.convert<bool>());
}

Result<std::optional<JsonObject>> getOptionalObject(const JsonObject& obj, const std::string& key) {
  if (!obj->has(key) || obj->isNull(key)) return std::optional<JsonObject>();
  if (!obj->isObject(key)) return invalidArgument("field '" + key + "' must be an object");
  return std::optional<JsonObject>(obj->getObject(key));
}

Result<std::optional<JsonArray>> getOptionalArray(const JsonObject& obj, const std::string& key) {
  if (!obj->has(key) || obj->isNull(key)) return std::optional<JsonArray>();
  if (!obj->isArray(key)) return invalidArgument("field '" + key + "' must be an array");
  return std::optional<JsonArray>(obj->getArray(key));
}

Result<std::optional<std::vector<std::string>>> getOptionalStringList(const JsonObject& obj,
                                                                      const std::string& key) {
  auto arr = getOptionalArray(obj, key);
  if (!arr.ok()) return arr.error();
  if (!arr->has_value()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < (**arr)->size(); ++i) {
    Poco::Dynamic::Var v = (**arr)->get(static_cast<unsigned>(i));
    if (!v.isString()) return invalidArgument("field '" + key + "' must hold only strings");
    out.push_back(v.convert<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace dcloud
