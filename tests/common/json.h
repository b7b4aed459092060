// JSON in tests: parsed by nlohmann-json into a small read-only tree whose missing keys and
// indices read as null (so a test that looks up an absent field fails an expectation instead
// of hitting nlohmann's undefined behaviour for const lookups).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nibble::test {

struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  double num = 0;
  bool b = false;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;

  const Json& operator[](const std::string& k) const {
    static const Json none;
    auto it = obj.find(k);
    return it == obj.end() ? none : it->second;
  }
  const Json& operator[](size_t i) const {
    static const Json none;
    return i < arr.size() ? arr[i] : none;
  }
  size_t size() const { return kind == array ? arr.size() : obj.size(); }

  static Json from(const nlohmann::json& j) {
    Json o;
    if (j.is_boolean()) {
      o.kind = boolean;
      o.b = j.get<bool>();
    } else if (j.is_number()) {
      o.kind = number;
      o.num = j.get<double>();
    } else if (j.is_string()) {
      o.kind = string;
      o.str = j.get<std::string>();
    } else if (j.is_array()) {
      o.kind = array;
      for (const auto& e : j) o.arr.push_back(from(e));
    } else if (j.is_object()) {
      o.kind = object;
      for (const auto& [k, v] : j.items()) o.obj.emplace(k, from(v));
    }
    return o;
  }
};

// Parses `s` into *out; false (and *out untouched) when it is not valid JSON.
inline bool parse_json(std::string_view s, Json* out) {
  nlohmann::json j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return false;
  *out = Json::from(j);
  return true;
}

}  // namespace nibble::test
