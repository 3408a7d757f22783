#pragma once
// Strict JSON reading on Poco::JSON: unknown fields, wrong types and out-of-range numbers are
// InvalidArgument errors naming the field, never exceptions.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace dcloud {

using JsonObject = Poco::JSON::Object::Ptr;
using JsonArray = Poco::JSON::Array::Ptr;

Result<JsonObject> parseJsonObject(const std::string& text);
std::string toJson(const JsonObject& obj);
std::string toJson(const JsonArray& arr);

// Fails if obj has a field not in allowed.
Status requireOnlyFields(const JsonObject& obj, std::initializer_list<const char*> allowed);

Result<std::string> getString(const JsonObject& obj, const std::string& key);
Result<std::optional<std::string>> getOptionalString(const JsonObject& obj, const std::string& key);
Result<std::int64_t> getInt(const JsonObject& obj, const std::string& key);
Result<std::optional<std::int64_t>> getOptionalInt(const JsonObject& obj, const std::string& key);
Result<std::optional<bool>> getOptionalBool(const JsonObject& obj, const std::string& key);
Result<std::optional<JsonObject>> getOptionalObject(const JsonObject& obj, const std::string& key);
Result<std::optional<JsonArray>> getOptionalArray(const JsonObject& obj, const std::string& key);
// An array of strings.
Result<std::optional<std::vector<std::string>>> getOptionalStringList(const JsonObject& obj,
                                                                      const std::string& key);

}  // namespace dcloud
