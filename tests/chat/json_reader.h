// JSON for the chat tests' golden data, parsed by nlohmann-json (keys kept in file order) into
// chat::Value, the interpreter's own value type, which doubles as the DOM.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/value.h"

namespace nibble::chat::test {

inline Value from_json(const nlohmann::ordered_json& j) {
  if (j.is_null()) return Value::none();
  if (j.is_boolean()) return Value::boolean(j.get<bool>());
  if (j.is_number_integer() || j.is_number_unsigned()) return Value::integer(j.get<int64_t>());
  if (j.is_number_float()) return Value::floating(j.get<double>());
  if (j.is_string()) return Value::string(j.get<std::string>());
  if (j.is_array()) {
    ValueList items;
    for (const auto& e : j) items.push_back(from_json(e));
    return Value::make_list(std::move(items));
  }
  ValueDict items;
  for (const auto& [k, v] : j.items()) items.emplace_back(k, from_json(v));
  return Value::make_dict(std::move(items));
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  // false (and *out untouched) when the text is not valid JSON.
  bool parse(Value* out) const {
    auto j = nlohmann::ordered_json::parse(s_, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return false;
    *out = from_json(j);
    return true;
  }

 private:
  std::string_view s_;
};

}  // namespace nibble::chat::test
