// GGUF reader: memory-maps a GGUF v2/v3 file read-only and validates every field before use.
// Metadata values and tensor data are views into the mapping (no copies of tensor data); the
// File owns the mapping, so views live as long as the File.
//
// Every count, length, offset and dimension in the file is treated as hostile; see
// docs/gguf.md for the full list of rejections and their error codes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/formats/types.h"
#include "nibble/result.h"

namespace nibble::gguf {

// Metadata value types as numbered in the GGUF spec.
enum class ValueType : uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};
std::string_view value_type_name(ValueType t);

namespace detail {
struct ValueAccess;  // the reader's and writer's access to the representation (reader_detail.h)
}  // namespace detail

// One metadata value, immutable. Scalars are decoded; strings are views into the file; arrays keep
// their element type and count, with scalar elements left in the file (little-endian, possibly
// unaligned) and read through the accessors, and string / nested-array elements decoded.
class Value {
 public:
  ValueType type() const { return type_; }

  // Scalars. Each returns type_mismatch (naming `what`) unless the value has exactly that type.
  // The integer accessors `as_uint` / `as_int` accept any integer type whose value fits.
  bool is_integer() const;
  Result<uint64_t> as_uint(std::string_view what = {}) const;
  Result<int64_t> as_int(std::string_view what = {}) const;
  Result<double> as_float(std::string_view what = {}) const;  // f32 or f64
  Result<bool> as_bool(std::string_view what = {}) const;
  Result<std::string_view> as_string(std::string_view what = {}) const;

  // Arrays.
  ValueType array_type() const { return array_type_; }  // element type (array values only)
  uint64_t array_size() const { return array_size_; }
  // Element i of a scalar array (decoded into a scalar Value), string array or nested array.
  Value at(uint64_t i) const;
  // Whole-array helpers; type_mismatch unless the array has a fitting element type.
  Result<std::vector<std::string_view>> as_string_array(std::string_view what = {}) const;
  Result<std::vector<float>> as_f32_array(std::string_view what = {}) const;  // f32 elements
  Result<std::vector<int32_t>> as_i32_array(
      std::string_view what = {}) const;  // any int fitting i32
  Result<std::vector<uint8_t>> as_u8_array(
      std::string_view what = {}) const;  // u8/i8/bool... fitting

  // A copy cut to its first `keep` elements, nested arrays too (tests and fuzz seeds that
  // shrink real files); scalars and strings are returned unchanged.
  Value prefix(uint64_t keep) const;

 private:
  friend struct detail::ValueAccess;
  Value element(uint64_t i) const;  // element i of an array (i < array_size_)

  ValueType type_ = ValueType::u8;
  union {
    uint64_t u;
    int64_t i;
    double f;
  } scalar_{0};
  std::string_view str_;  // string values
  ValueType array_type_ = ValueType::u8;
  uint64_t array_size_ = 0;
  const uint8_t* array_data_ = nullptr;  // scalar arrays: raw little-endian elements
  std::shared_ptr<const std::vector<Value>> array_items_;  // string / nested arrays
};

struct KeyValue {
  std::string_view key;  // view into the file
  Value value;
};

struct TensorInfo {
  std::string_view name;  // view into the file
  TensorType type;
  uint32_t n_dims;                         // 1..4
  std::array<uint64_t, 4> ne{1, 1, 1, 1};  // ne[0] is the contiguous (row) dimension
  uint64_t n_elements;
  uint64_t offset;  // from the start of the data section
  uint64_t n_bytes;
  const uint8_t* data;  // into the mapping
  uint64_t rows() const { return n_elements / ne[0]; }
};

class File {
 public:
  // Map and validate a file. Errors name the file, key, tensor or byte offset.
  static Result<File> open(const std::string& path);
  // Validate a buffer (tests, fuzzing). The File keeps a copy of the bytes.
  static Result<File> from_bytes(std::span<const uint8_t> bytes);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& path() const;
  uint32_t version() const;
  uint64_t alignment() const;
  uint64_t data_offset() const;  // start of the tensor data section
  uint64_t file_size() const;
  const uint8_t* base() const;  // start of the mapping

  const std::vector<KeyValue>& metadata() const;
  const Value* find(std::string_view key) const;  // nullptr when absent

  // Typed getters: missing_key when absent, type_mismatch when of another type. Integer
  // getters accept any integer type whose value fits the requested range.
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string_view> get_string(std::string_view key) const;
  Result<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_f32_array(std::string_view key) const;
  Result<std::vector<int32_t>> get_i32_array(std::string_view key) const;
  // Defaults when absent (still type_mismatch when present with a wrong type).
  Result<uint64_t> get_uint_or(std::string_view key, uint64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;
  Result<bool> get_bool_or(std::string_view key, bool fallback) const;
  Result<std::string_view> get_string_or(std::string_view key, std::string_view fallback) const;

  const std::vector<TensorInfo>& tensors() const;
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent

  // Release the pages of [data, data + n) from memory (after repacking a tensor elsewhere).
  void release(const void* data, uint64_t n) const;

  struct Impl;

 private:
  explicit File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble::gguf
