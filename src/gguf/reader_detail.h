// Internals shared by the GGUF reader, the Value accessors and the writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/gguf.h"

namespace nibble::gguf::detail {

// Deepest nesting of arrays accepted (an array of arrays is depth 2). Real files use depth 1;
// the bound keeps hostile files from recursing the parser off the stack.
inline constexpr int kMaxArrayDepth = 8;
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;

// Bytes of one scalar element; 0 for string/array.
size_t scalar_size(ValueType t);
bool is_signed_int(ValueType t);
bool is_unsigned_int(ValueType t);
// Decodes one little-endian scalar (scalar_size(t) bytes at p).
Value decode_scalar(ValueType t, const uint8_t* p);

// What the reader builds and the writer encodes: the only code that sees a Value's fields.
struct ValueAccess {
  static Value string(std::string_view s) {
    Value v;
    v.type_ = ValueType::string;
    v.str_ = s;
    return v;
  }
  static Value scalar(ValueType t, uint64_t bits, double f) {
    Value v;
    v.type_ = t;
    if (t == ValueType::f32 || t == ValueType::f64)
      v.scalar_.f = f;
    else if (is_signed_int(t))
      v.scalar_.i = static_cast<int64_t>(bits);
    else
      v.scalar_.u = bits;
    return v;
  }
  // An array of scalars left in the file (n elements of scalar_size(elem) bytes at data).
  static Value scalar_array(ValueType elem, uint64_t n, const uint8_t* data) {
    Value v;
    v.type_ = ValueType::array;
    v.array_type_ = elem;
    v.array_size_ = n;
    v.array_data_ = data;
    return v;
  }
  // An array of strings or arrays, decoded.
  static Value item_array(ValueType elem, std::shared_ptr<const std::vector<Value>> items) {
    Value v;
    v.type_ = ValueType::array;
    v.array_type_ = elem;
    v.array_size_ = items->size();
    v.array_items_ = std::move(items);
    return v;
  }
  static std::string_view str(const Value& v) { return v.str_; }
  static uint64_t bits(const Value& v) {
    return is_signed_int(v.type_) ? static_cast<uint64_t>(v.scalar_.i) : v.scalar_.u;
  }
  static double real(const Value& v) { return v.scalar_.f; }
  static const uint8_t* array_data(const Value& v) { return v.array_data_; }
  static const std::vector<Value>* items(const Value& v) { return v.array_items_.get(); }
};

inline bool is_known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::f64); }

}  // namespace nibble::gguf::detail
