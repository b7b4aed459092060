// gguf::Value accessors: scalar decoding, array element access and the whole-array helpers.
#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "gguf/gguf.h"
#include "gguf/reader_detail.h"

namespace nibble::gguf {

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::u8:
      return "u8";
    case ValueType::i8:
      return "i8";
    case ValueType::u16:
      return "u16";
    case ValueType::i16:
      return "i16";
    case ValueType::u32:
      return "u32";
    case ValueType::i32:
      return "i32";
    case ValueType::f32:
      return "f32";
    case ValueType::boolean:
      return "bool";
    case ValueType::string:
      return "string";
    case ValueType::array:
      return "array";
    case ValueType::u64:
      return "u64";
    case ValueType::i64:
      return "i64";
    case ValueType::f64:
      return "f64";
  }
  return "unknown";
}

namespace detail {

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::u8:
    case ValueType::i8:
    case ValueType::boolean:
      return 1;
    case ValueType::u16:
    case ValueType::i16:
      return 2;
    case ValueType::u32:
    case ValueType::i32:
    case ValueType::f32:
      return 4;
    case ValueType::u64:
    case ValueType::i64:
    case ValueType::f64:
      return 8;
    case ValueType::string:
    case ValueType::array:
      return 0;
  }
  return 0;
}

bool is_signed_int(ValueType t) {
  return t == ValueType::i8 || t == ValueType::i16 || t == ValueType::i32 || t == ValueType::i64;
}
bool is_unsigned_int(ValueType t) {
  return t == ValueType::u8 || t == ValueType::u16 || t == ValueType::u32 || t == ValueType::u64;
}

// Decodes one little-endian scalar of type `t` (scalar_size(t) bytes at p) into a Value.
Value decode_scalar(ValueType t, const uint8_t* p) {
  uint64_t raw = 0;
  size_t n = scalar_size(t);
  for (size_t k = 0; k < n; ++k) raw |= static_cast<uint64_t>(p[k]) << (8 * k);
  uint64_t bits = raw;
  double f = 0;
  switch (t) {
    case ValueType::i8:
      bits = static_cast<uint64_t>(int64_t{static_cast<int8_t>(raw)});
      break;
    case ValueType::i16:
      bits = static_cast<uint64_t>(int64_t{static_cast<int16_t>(raw)});
      break;
    case ValueType::i32:
      bits = static_cast<uint64_t>(int64_t{static_cast<int32_t>(raw)});
      break;
    case ValueType::boolean:
      bits = raw != 0 ? 1 : 0;
      break;
    case ValueType::f32: {
      uint32_t b32 = static_cast<uint32_t>(raw);
      float x;
      std::memcpy(&x, &b32, 4);
      f = x;
      break;
    }
    case ValueType::f64:
      std::memcpy(&f, &raw, 8);
      break;
    default:  // unsigned integers and i64: the raw bits
      break;
  }
  return ValueAccess::scalar(t, bits, f);
}

}  // namespace detail

namespace {

Error mismatch(std::string_view what, std::string_view wanted, const Value& v) {
  std::string got(value_type_name(v.type()));
  if (v.type() == ValueType::array)
    got = fmt::format("array of {}", value_type_name(v.array_type()));
  return Error(ErrorCode::type_mismatch, fmt::format("metadata '{}': expected {}, found {}",
                                                     what.empty() ? "value" : what, wanted, got));
}

Error range_error(std::string_view what, std::string_view wanted, const Value& v) {
  return Error(ErrorCode::type_mismatch,
               fmt::format("metadata '{}': {} value does not fit {}", what.empty() ? "value" : what,
                           value_type_name(v.type()), wanted));
}

}  // namespace

// Element `i` of an array as a Value (caller checked i < array_size_). Values built by hand
// (not by the reader) may lack their storage; they read as empty values rather than crash.
Value Value::element(uint64_t i) const {
  size_t es = detail::scalar_size(array_type_);
  if (es == 0) {
    if (!array_items_ || i >= array_items_->size()) return Value{};
    return (*array_items_)[i];
  }
  if (!array_data_) return Value{};
  return detail::decode_scalar(array_type_, array_data_ + i * es);
}

Value Value::prefix(uint64_t keep) const {
  Value s = *this;
  if (type_ != ValueType::array || array_size_ <= keep) return s;
  s.array_size_ = keep;
  if (array_items_) {
    auto items = std::make_shared<std::vector<Value>>();
    for (uint64_t i = 0; i < keep && i < array_items_->size(); ++i)
      items->push_back((*array_items_)[i].prefix(keep));
    s.array_items_ = std::move(items);
  }
  return s;
}

bool Value::is_integer() const {
  return detail::is_signed_int(type_) || detail::is_unsigned_int(type_);
}

Result<uint64_t> Value::as_uint(std::string_view what) const {
  if (detail::is_unsigned_int(type_)) return scalar_.u;
  if (detail::is_signed_int(type_)) {
    if (scalar_.i < 0) return range_error(what, "an unsigned integer", *this);
    return static_cast<uint64_t>(scalar_.i);
  }
  return mismatch(what, "an integer", *this);
}

Result<int64_t> Value::as_int(std::string_view what) const {
  if (detail::is_signed_int(type_)) return scalar_.i;
  if (detail::is_unsigned_int(type_)) {
    if (scalar_.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return range_error(what, "i64", *this);
    return static_cast<int64_t>(scalar_.u);
  }
  return mismatch(what, "an integer", *this);
}

Result<double> Value::as_float(std::string_view what) const {
  if (type_ == ValueType::f32 || type_ == ValueType::f64) return scalar_.f;
  return mismatch(what, "f32 or f64", *this);
}

Result<bool> Value::as_bool(std::string_view what) const {
  if (type_ == ValueType::boolean) return scalar_.u != 0;
  return mismatch(what, "bool", *this);
}

Result<std::string_view> Value::as_string(std::string_view what) const {
  if (type_ == ValueType::string) return str_;
  return mismatch(what, "string", *this);
}

Value Value::at(uint64_t i) const {
  if (type_ != ValueType::array || i >= array_size_) return Value{};
  return element(i);
}

Result<std::vector<std::string_view>> Value::as_string_array(std::string_view what) const {
  if (type_ != ValueType::array || array_type_ != ValueType::string)
    return mismatch(what, "array of string", *this);
  std::vector<std::string_view> out;
  out.reserve(array_size_);
  for (uint64_t i = 0; i < array_size_; ++i) out.push_back(element(i).str_);
  return out;
}

Result<std::vector<float>> Value::as_f32_array(std::string_view what) const {
  if (type_ != ValueType::array || array_type_ != ValueType::f32)
    return mismatch(what, "array of f32", *this);
  std::vector<float> out(array_size_);
  for (uint64_t i = 0; i < array_size_; ++i) out[i] = static_cast<float>(element(i).scalar_.f);
  return out;
}

Result<std::vector<int32_t>> Value::as_i32_array(std::string_view what) const {
  if (type_ != ValueType::array ||
      !(detail::is_signed_int(array_type_) || detail::is_unsigned_int(array_type_)))
    return mismatch(what, "array of integers", *this);
  std::vector<int32_t> out(array_size_);
  for (uint64_t i = 0; i < array_size_; ++i) {
    Value e = element(i);
    auto x = e.as_int(what);
    if (!x.ok() || *x < std::numeric_limits<int32_t>::min() ||
        *x > std::numeric_limits<int32_t>::max())
      return Error(ErrorCode::type_mismatch,
                   fmt::format("metadata '{}': element {} does not fit i32",
                               what.empty() ? "value" : what, i));
    out[i] = static_cast<int32_t>(*x);
  }
  return out;
}

Result<std::vector<uint8_t>> Value::as_u8_array(std::string_view what) const {
  bool ok_type = type_ == ValueType::array &&
                 (detail::is_signed_int(array_type_) || detail::is_unsigned_int(array_type_) ||
                  array_type_ == ValueType::boolean);
  if (!ok_type) return mismatch(what, "array of integers or bools", *this);
  std::vector<uint8_t> out(array_size_);
  for (uint64_t i = 0; i < array_size_; ++i) {
    Value e = element(i);
    int64_t x = 0;
    if (e.type_ == ValueType::boolean) {
      x = static_cast<int64_t>(e.scalar_.u);
    } else {
      auto r = e.as_int(what);
      x = r.ok() ? *r : -1;
    }
    if (x < 0 || x > 255)
      return Error(ErrorCode::type_mismatch,
                   fmt::format("metadata '{}': element {} does not fit u8",
                               what.empty() ? "value" : what, i));
    out[i] = static_cast<uint8_t>(x);
  }
  return out;
}

}  // namespace nibble::gguf
